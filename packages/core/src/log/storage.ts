// The read side of the stable log, as the core sees it. The runtime's storage implements this
// (over an in-memory cache or synchronous reads: the core never waits) and writes to it what each
// Ready tells it to persist. MemoryStorage is the reference implementation, used by tests.
import { RaftError } from "../errors.js";
import {
  type ConfState,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  type Entry,
  entrySize,
  type HardState,
  type Snapshot,
} from "../types.js";

export interface InitialState {
  readonly hardState: HardState;
  /** The membership as of the last snapshot (or the bootstrap membership). */
  readonly confState: ConfState;
}

export interface LogStorage {
  initialState(): InitialState;
  /**
   * Entries in [lo, hi), stopping early once `maxBytes` is exceeded but always returning at
   * least one entry if the range is not empty. Throws RaftError "compacted" if lo is below the
   * first index, "unavailable" if hi is past the last index + 1.
   */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /**
   * The term of the entry at `index`, for index in [firstIndex - 1, lastIndex]: the entry just
   * before the first is the last one covered by the snapshot. Throws "compacted" or "unavailable".
   */
  term(index: number): number;
  /** The first index still in the log (the snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot. May throw "snapshot-temporarily-unavailable". */
  snapshot(): Snapshot;
}

/** Takes entries from the front of `ents` while their size stays within `maxBytes` (at least one). */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0] as Entry);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n] as Entry);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/**
 * A LogStorage held in memory. ents[0] is a dummy entry carrying the snapshot's index and term,
 * so that term(firstIndex - 1) works.
 */
export class MemoryStorage implements LogStorage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: EMPTY_CONF_STATE },
    data: new Uint8Array(0),
  };
  private ents: Entry[] = [{ index: 0, term: 0, type: 0, data: new Uint8Array(0) }];
  /** When set, snapshot() throws "snapshot-temporarily-unavailable" (for tests). */
  snapshotUnavailable = false;

  /** A storage for a node of a new cluster whose initial membership is `voters` (and learners). */
  static withMembers(voters: readonly number[], learners: readonly number[] = []): MemoryStorage {
    const s = new MemoryStorage();
    s.snap = {
      metadata: { index: 0, term: 0, confState: { ...EMPTY_CONF_STATE, voters, learners } },
      data: new Uint8Array(0),
    };
    return s;
  }

  initialState(): InitialState {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  setHardState(hs: HardState): void {
    this.hardState = hs;
  }

  private get offset(): number {
    return (this.ents[0] as Entry).index;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset;
    if (lo <= offset) {
      throw new RaftError("compacted", `entries from ${lo}: compacted up to ${offset}`);
    }
    if (hi > this.lastIndex() + 1) {
      throw new RaftError(
        "unavailable",
        `entries up to ${hi - 1}: last index is ${this.lastIndex()}`,
      );
    }
    if (this.ents.length === 1) return [];
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(index: number): number {
    const offset = this.offset;
    if (index < offset)
      throw new RaftError("compacted", `term of ${index}: compacted up to ${offset}`);
    const e = this.ents[index - offset];
    if (!e)
      throw new RaftError("unavailable", `term of ${index}: last index is ${this.lastIndex()}`);
    return e.term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    if (this.snapshotUnavailable) {
      throw new RaftError("snapshot-temporarily-unavailable", "snapshot is being created");
    }
    return this.snap;
  }

  /** Replaces the log with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (snap.metadata.index < this.snap.metadata.index) {
      throw new RaftError(
        "snapshot-out-of-date",
        `snapshot at ${snap.metadata.index} is older than the stored one at ${this.snap.metadata.index}`,
      );
    }
    this.snap = snap;
    this.ents = [
      { index: snap.metadata.index, term: snap.metadata.term, type: 0, data: new Uint8Array(0) },
    ];
  }

  /** Records a snapshot of the state machine at `index` (which must be applied). */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    if (index <= this.snap.metadata.index) {
      throw new RaftError(
        "snapshot-out-of-date",
        `snapshot at ${index} is not newer than ${this.snap.metadata.index}`,
      );
    }
    if (index > this.lastIndex()) {
      throw new RaftError(
        "unavailable",
        `snapshot at ${index} is past the last index ${this.lastIndex()}`,
      );
    }
    const term = this.term(index);
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /** Discards entries before `compactIndex`; the entry at compactIndex becomes the dummy. */
  compact(compactIndex: number): void {
    const offset = this.offset;
    if (compactIndex <= offset) return;
    if (compactIndex > this.lastIndex()) {
      throw new RaftError(
        "unavailable",
        `compact to ${compactIndex}: last index is ${this.lastIndex()}`,
      );
    }
    const i = compactIndex - offset;
    const dummy = this.ents[i] as Entry;
    this.ents = [
      { index: dummy.index, term: dummy.term, type: 0, data: new Uint8Array(0) },
      ...this.ents.slice(i + 1),
    ];
  }

  /** Appends entries, replacing any existing entries from the first new index on. */
  append(entries: readonly Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = (entries[entries.length - 1] as Entry).index;
    if (last < first) return; // entirely compacted already
    // Skip the part that is already compacted.
    const ents =
      (entries[0] as Entry).index < first
        ? entries.slice(first - (entries[0] as Entry).index)
        : entries;
    const at = (ents[0] as Entry).index - this.offset;
    if (at > this.ents.length) {
      throw new RaftError(
        "unavailable",
        `append at ${(ents[0] as Entry).index} leaves a gap after last index ${this.lastIndex()}`,
      );
    }
    if (at === this.ents.length) {
      for (const e of ents) this.ents.push(e); // the common case: a plain append
    } else {
      this.ents = this.ents.slice(0, at).concat(ents);
    }
  }
}
