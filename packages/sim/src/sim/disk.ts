// The simulated disk of one node. Writes land in the page cache (pending) and are visible to the
// node at once, as the core requires of its LogStorage; an fsync makes everything pending
// durable. A crash keeps the durable state plus a random prefix of the pending writes (a torn
// write: the tail of the queue never reached the platter) and the node restarts from that.
import {
  type ConfState,
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  type Entry,
  type HardState,
  type InitialState,
  type LogStorage,
  RaftError,
  type Snapshot,
} from "@d-engine/core";
import type { SimRng } from "./rng.js";

/** The state machine as of an applied index, persisted so `applied` survives restarts. */
export interface Checkpoint {
  readonly applied: number;
  readonly data: Uint8Array;
  /** The membership as of `applied` (the core restores its configuration from it). */
  readonly confState: ConfState;
}

export type DiskWrite =
  /** A leader's snapshot: replaces the whole log. */
  | { readonly kind: "snapshot"; readonly snap: Snapshot }
  /** One log entry; replaces any stored entries from its index on. */
  | { readonly kind: "entry"; readonly entry: Entry }
  | { readonly kind: "hardState"; readonly hs: HardState }
  /** A snapshot of this node's own state machine; the log is kept. */
  | { readonly kind: "localSnapshot"; readonly snap: Snapshot }
  /** Discards log entries up to `index` (which must be covered by the snapshot). */
  | { readonly kind: "compact"; readonly index: number }
  | { readonly kind: "checkpoint"; readonly cp: Checkpoint };

function dummy(index: number, term: number): Entry {
  return { index, term, type: 0, data: EMPTY_BYTES };
}

/** A disk's contents: hard state, snapshot, log (ents[0] is a dummy at the snapshot index), checkpoint. */
export class LogImage implements LogStorage {
  hardState: HardState = EMPTY_HARD_STATE;
  snap: Snapshot;
  ents: Entry[];
  checkpoint: Checkpoint | undefined;

  constructor(confState: ConfState = EMPTY_CONF_STATE) {
    this.snap = { metadata: { index: 0, term: 0, confState }, data: EMPTY_BYTES };
    this.ents = [dummy(0, 0)];
  }

  clone(): LogImage {
    const c = new LogImage();
    c.hardState = this.hardState;
    c.snap = this.snap;
    c.ents = this.ents.slice();
    c.checkpoint = this.checkpoint;
    return c;
  }

  get snapIndex(): number {
    return this.snap.metadata.index;
  }

  /**
   * The persisted hard state and the membership as of the applied index. A persisted snapshot
   * covers only committed entries, so it vouches for a commit index at least its own, even when a
   * crash tore away the hard state written after it.
   */
  initialState(): InitialState {
    const hs = this.hardState;
    const cp = this.checkpoint;
    const confState =
      cp && cp.applied >= this.snapIndex ? cp.confState : this.snap.metadata.confState;
    const commit = Math.max(hs.commit, this.snapIndex);
    return { hardState: commit === hs.commit ? hs : { ...hs, commit }, confState };
  }

  private get offset(): number {
    return (this.ents[0] as Entry).index;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.offset;
    if (lo <= offset)
      throw new RaftError("compacted", `entries from ${lo}: compacted up to ${offset}`);
    if (hi > this.lastIndex() + 1) {
      throw new RaftError("unavailable", `entries up to ${hi - 1}: last is ${this.lastIndex()}`);
    }
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = this.ents[i - offset] as Entry;
      size += e.data.length + 24;
      if (out.length > 0 && size > maxBytes) break;
      out.push(e);
    }
    return out;
  }

  term(index: number): number {
    const offset = this.offset;
    if (index < offset)
      throw new RaftError("compacted", `term of ${index}: compacted to ${offset}`);
    const e = this.ents[index - offset];
    if (!e) throw new RaftError("unavailable", `term of ${index}: last is ${this.lastIndex()}`);
    return e.term;
  }

  firstIndex(): number {
    return this.offset + 1;
  }

  lastIndex(): number {
    return this.offset + this.ents.length - 1;
  }

  /**
   * The running node refuses to hand out a snapshot older than this (one that may predate the
   * newest membership, so a joining node would not find itself in it): the core retries later,
   * and `onStaleSnapshot` asks the runtime to take a fresh one meanwhile.
   */
  minSnapshotIndex = 0;
  onStaleSnapshot: (() => void) | undefined;

  snapshot(): Snapshot {
    if (this.snap.metadata.index < this.minSnapshotIndex) {
      this.onStaleSnapshot?.();
      throw new RaftError(
        "snapshot-temporarily-unavailable",
        `snapshot at ${this.snapIndex} predates index ${this.minSnapshotIndex}; taking a new one`,
      );
    }
    return this.snap;
  }

  /** The entry at `index`, if stored. */
  entry(index: number): Entry | undefined {
    const i = index - this.offset;
    return i >= 1 ? this.ents[i] : undefined;
  }

  apply(w: DiskWrite): void {
    switch (w.kind) {
      case "snapshot": {
        const m = w.snap.metadata;
        if (m.index < this.snapIndex) {
          throw new Error(
            `disk: snapshot at ${m.index} is older than the stored ${this.snapIndex}`,
          );
        }
        this.snap = w.snap;
        this.ents = [dummy(m.index, m.term)];
        return;
      }
      case "entry": {
        const e = w.entry;
        const at = e.index - this.offset;
        if (at <= 0) return; // already covered by the snapshot
        if (at > this.ents.length) {
          throw new Error(`disk: entry ${e.index} leaves a gap after ${this.lastIndex()}`);
        }
        if (at < this.ents.length) this.ents.length = at;
        this.ents.push(e);
        return;
      }
      case "hardState":
        this.hardState = w.hs;
        return;
      case "localSnapshot": {
        const m = w.snap.metadata;
        if (m.index <= this.snapIndex) return;
        if (m.index > this.lastIndex() || this.term(m.index) !== m.term) {
          throw new Error(`disk: local snapshot at ${m.index} (term ${m.term}) is not in the log`);
        }
        this.snap = w.snap;
        return;
      }
      case "compact": {
        const offset = this.offset;
        if (w.index <= offset) return;
        if (w.index > this.snapIndex) {
          throw new Error(`disk: compacting to ${w.index} past the snapshot at ${this.snapIndex}`);
        }
        const i = w.index - offset;
        const d = this.ents[i] as Entry;
        this.ents = [dummy(d.index, d.term), ...this.ents.slice(i + 1)];
        return;
      }
      case "checkpoint":
        this.checkpoint = w.cp;
        return;
    }
  }
}

export interface CrashReport {
  /** Pending writes that survived (a prefix). */
  readonly kept: number;
  /** Pending writes that were lost. */
  readonly lost: number;
}

export class SimDisk {
  /** What survives a crash. */
  durable: LogImage;
  /** What the running node sees: durable plus pending writes. */
  view: LogImage;
  private pending: DiskWrite[] = [];
  readonly stats = { writes: 0, fsyncs: 0, lostWrites: 0 };

  constructor(initial: LogImage) {
    this.durable = initial;
    this.view = initial.clone();
  }

  get pendingWrites(): number {
    return this.pending.length;
  }

  write(w: DiskWrite): void {
    this.stats.writes++;
    this.pending.push(w);
    this.view.apply(w);
  }

  fsync(): void {
    this.stats.fsyncs++;
    for (const w of this.pending) this.durable.apply(w);
    this.pending = [];
  }

  /** Power loss: a random prefix of the pending writes survives; the view reverts to the disk. */
  crash(rng: SimRng): CrashReport {
    const kept = rng.nextInt(this.pending.length + 1);
    for (let i = 0; i < kept; i++) this.durable.apply(this.pending[i] as DiskWrite);
    const lost = this.pending.length - kept;
    this.stats.lostWrites += lost;
    this.pending = [];
    this.view = this.durable.clone();
    return { kept, lost };
  }
}
