// The core's view of the log: RaftStorage, except that a snapshot older than the newest
// membership change is not handed out. A follower that needs a snapshot must find itself in the
// snapshot's configuration (a learner added after the snapshot was taken would ignore it and ask
// again forever), so the leader takes a fresh one first and the core retries meanwhile.
import {
  type Entry,
  type InitialState,
  type LogStorage,
  RaftError,
  type Snapshot,
} from "@d-engine/core";
import type { RaftStorage } from "@d-engine/storage";

export class EngineLogStorage implements LogStorage {
  /** The index of the newest membership change applied: snapshots must be at least this new. */
  minSnapshotIndex = 0;

  constructor(
    private readonly inner: RaftStorage,
    private readonly onStaleSnapshot: () => void,
  ) {}

  initialState(): InitialState {
    return this.inner.initialState();
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.inner.entries(lo, hi, maxBytes);
  }

  term(index: number): number {
    return this.inner.term(index);
  }

  firstIndex(): number {
    return this.inner.firstIndex();
  }

  lastIndex(): number {
    return this.inner.lastIndex();
  }

  snapshot(): Snapshot {
    const snap = this.inner.snapshot();
    if (snap.metadata.index === 0 || snap.metadata.index < this.minSnapshotIndex) {
      this.onStaleSnapshot();
      throw new RaftError(
        "snapshot-temporarily-unavailable",
        `the newest snapshot (index ${snap.metadata.index}) predates the membership change at ${this.minSnapshotIndex}; taking a new one`,
      );
    }
    return snap;
  }
}
