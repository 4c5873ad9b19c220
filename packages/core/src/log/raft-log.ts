// The whole log as the core sees it: stable entries in the runtime's storage followed by the
// unstable tail, with the commit and applied indexes.
import { isRaftError, RaftError } from "../errors.js";
import type { Entry, Snapshot } from "../types.js";
import { type LogStorage, limitSize } from "./storage.js";
import { Unstable } from "./unstable.js";

export class RaftLog {
  readonly unstable: Unstable;
  /** The highest index known to be committed (stored on a quorum). */
  committed: number;
  /** The highest index the runtime has applied to its state machine. */
  applied: number;

  constructor(
    readonly storage: LogStorage,
    /** Byte budget for the committed entries of one Ready. */
    readonly maxApplyingBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /** The last index that is durable (everything below the unstable tail). */
  lastStableIndex(): number {
    return this.unstable.offset - 1;
  }

  lastTerm(): number {
    return this.term(this.lastIndex());
  }

  /** The term at `i`; throws RaftError "compacted" / "unavailable" outside [first - 1, last]. */
  term(i: number): number {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex()) {
      throw new RaftError("compacted", `term of ${i}: compacted up to ${this.firstIndex() - 1}`);
    }
    if (i > this.lastIndex()) {
      throw new RaftError("unavailable", `term of ${i}: last index is ${this.lastIndex()}`);
    }
    return this.storage.term(i);
  }

  /** The term at `i`, or undefined if it is compacted or past the end. */
  maybeTerm(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    // Bounds first: a follower probes one index past its log on every append, and building an
    // error for that was a third of the time at batch size 1.
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (e) {
      if (isRaftError(e, "compacted") || isRaftError(e, "unavailable")) return undefined;
      throw e;
    }
  }

  matchTerm(i: number, term: number): boolean {
    return this.maybeTerm(i) === term;
  }

  /** Whether a log ending at (lastIndex, term) is at least as up to date as ours (Raft §5.4.1). */
  isUpToDate(lastIndex: number, term: number): boolean {
    const ourTerm = this.lastTerm();
    return term > ourTerm || (term === ourTerm && lastIndex >= this.lastIndex());
  }

  /**
   * Appends a leader's entries that follow (index, logTerm) if our log matches there.
   * Returns the index of the last new entry, or undefined if the log does not match.
   */
  maybeAppend(
    index: number,
    logTerm: number,
    committed: number,
    ents: readonly Entry[],
  ): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new RaftError(
          "corrupt-state",
          `entry ${ci} conflicts with committed entry (committed ${this.committed})`,
        );
      }
      this.append(ents.slice(ci - (index + 1)));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: readonly Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = (ents[0] as Entry).index - 1;
    if (after < this.committed) {
      throw new RaftError(
        "corrupt-state",
        `append after ${after} would overwrite committed entries (committed ${this.committed})`,
      );
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * The index of the first entry of `ents` that is not in our log with the same term (a
   * conflict, or simply new), or 0 if all of them are already present.
   */
  findConflict(ents: readonly Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) return e.index;
    }
    return 0;
  }

  /**
   * A guess where our log stops matching a leader's log whose entry at `index` has `term`:
   * the largest index <= `index` whose term is <= `term`. Lets the leader skip a whole term of
   * divergent entries per round trip instead of one entry. Returns [index, term]; a term of 0
   * means unknown (compacted).
   */
  findConflictByTerm(index: number, term: number): [number, number] {
    for (; index > 0; index--) {
      const ours = this.maybeTerm(index);
      if (ours === undefined) return [index, 0];
      if (ours <= term) return [index, ours];
    }
    return [0, 0];
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries;
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Committed entries not yet applied, up to the byte budget. None while a snapshot is pending. */
  nextCommittedEntries(): Entry[] {
    if (this.hasPendingSnapshot()) return [];
    const lo = this.applied + 1;
    const hi = this.committed + 1;
    if (lo >= hi) return [];
    return this.slice(lo, hi, this.maxApplyingBytes);
  }

  hasNextCommittedEntries(): boolean {
    return !this.hasPendingSnapshot() && this.committed > this.applied;
  }

  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return;
    if (this.lastIndex() < toCommit) {
      throw new RaftError(
        "corrupt-state",
        `commit index ${toCommit} is past the last index ${this.lastIndex()}: was the log truncated or lost?`,
      );
    }
    this.committed = toCommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new RaftError(
        "contract-violation",
        `applied index ${i} is outside [applied ${this.applied}, committed ${this.committed}]`,
      );
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** Commits up to maxIndex if the entry there is of `term` (only current-term entries count). */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.maybeTerm(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /** Entries from `i` to the end, bounded by bytes. */
  entries(i: number, maxBytes: number): Entry[] {
    if (i > this.lastIndex()) return [];
    return this.slice(i, this.lastIndex() + 1, maxBytes);
  }

  /** Every entry from the first index on (for tests and debugging). */
  allEntries(): Entry[] {
    return this.entries(this.firstIndex(), Number.POSITIVE_INFINITY);
  }

  /** Entries in [lo, hi) bounded by bytes; throws "compacted" if lo is compacted. */
  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.firstIndex();
    if (lo > hi) throw new RangeError(`invalid slice ${lo} > ${hi}`);
    if (lo < first)
      throw new RaftError("compacted", `slice from ${lo}: compacted up to ${first - 1}`);
    if (hi > this.lastIndex() + 1) {
      throw new RangeError(`slice[${lo},${hi}) out of bounds [${first},${this.lastIndex()}]`);
    }
    if (lo === hi) return [];
    const off = this.unstable.offset;
    let ents: Entry[] = [];
    if (lo < off) {
      const upper = Math.min(hi, off);
      const stored = this.storage.entries(lo, upper, maxBytes);
      // The storage stopped early: the byte budget is used up.
      if (stored.length < upper - lo) return stored;
      ents = stored;
    }
    if (hi > off) {
      const tail = this.unstable.slice(Math.max(lo, off), hi);
      ents = ents.length > 0 ? ents.concat(tail) : tail;
    }
    return limitSize(ents, maxBytes);
  }
}
