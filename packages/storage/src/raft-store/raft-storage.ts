// Presents a node's three stores as the core's LogStorage, and persists what a Ready asks for in
// an order that survives a crash at any point.
import {
  type ConfState,
  EMPTY_BYTES,
  EMPTY_CONF_STATE,
  type Entry,
  EntryType,
  type HardState,
  type InitialState,
  type LogStorage,
  persistSteps,
  type Snapshot,
  type SnapshotMetadata,
} from "@d-engine/core";
import { StorageError } from "./errors.js";
import type { RaftStores } from "./stores.js";

/** The part of a Ready that goes to disk. */
export interface PersistRequest {
  readonly snapshot?: Snapshot;
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

export class RaftStorage implements LogStorage {
  /** Every entry up to here is durable (as far as this adapter's writes go). */
  private durableLast: number;
  /** The newest hard state handed to the store (durable or on its way). */
  private lastSaved: HardState;
  /** A hard-state save nobody awaited failed: the next persist reports it. */
  private lazyFailure: unknown;

  private constructor(readonly stores: RaftStores) {
    this.durableLast = stores.log.lastIndex();
    this.lastSaved = stores.hardState.load();
  }

  /**
   * Wraps opened stores. A crash between saving a snapshot received from the leader and resetting
   * the log leaves a log that does not reach (or contradicts) the newest snapshot: that step is
   * finished here. A log compacted past
   * the newest snapshot has lost entries nothing else holds: that is an error.
   */
  static async open(stores: RaftStores): Promise<RaftStorage> {
    const { log, snapshots } = stores;
    const snap = snapshots.latest()?.metadata;
    if (snap && snap.index > log.firstIndex() - 1) {
      // A log that holds the snapshot's entry with the same term is consistent with it (and may
      // keep entries below it on purpose, see createSnapshot); any other log is reset to it.
      const matches = snap.index <= log.lastIndex() && log.term(snap.index) === snap.term;
      if (!matches) await log.reset(snap.index, snap.term);
    }
    const compactedTo = log.firstIndex() - 1;
    const snapIndex = snap?.index ?? 0;
    if (compactedTo > snapIndex) {
      throw new StorageError(
        "corrupt",
        `the log is compacted up to ${compactedTo} but the newest snapshot is at ${snapIndex}: entries ${snapIndex + 1}..${compactedTo} exist nowhere`,
      );
    }
    return new RaftStorage(stores);
  }

  initialState(): InitialState {
    return {
      hardState: this.stores.hardState.load(),
      confState: this.stores.snapshots.latest()?.metadata.confState ?? EMPTY_CONF_STATE,
    };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.stores.log.entries(lo, hi, maxBytes);
  }

  term(index: number): number {
    return this.stores.log.term(index);
  }

  firstIndex(): number {
    return this.stores.log.firstIndex();
  }

  lastIndex(): number {
    return this.stores.log.lastIndex();
  }

  /**
   * The newest snapshot's metadata. Its data is left empty on purpose: snapshots can be large and
   * the core never looks at them; the runtime streams the data to a follower with
   * stores.snapshots.chunks(metadata.index).
   */
  snapshot(): Snapshot {
    const latest = this.stores.snapshots.latest();
    return {
      metadata: latest?.metadata ?? { index: 0, term: 0, confState: EMPTY_CONF_STATE },
      data: EMPTY_BYTES,
    };
  }

  /**
   * Makes a new node's initial membership durable, as a snapshot at index 0. Does nothing if the
   * node has a snapshot, log entries or a hard state already (it is not new).
   */
  async bootstrap(confState: ConfState): Promise<void> {
    const { log, hardState, snapshots } = this.stores;
    if (snapshots.latest() || log.lastIndex() > 0 || hardState.load().term > 0) return;
    await snapshots.save({ index: 0, term: 0, confState }, EMPTY_BYTES);
  }

  /**
   * Persists a Ready's snapshot, entries and hard state. The snapshot goes first (the log is then
   * reset to it). Then, step by step (persistSteps: one step unless the entries hold membership
   * changes), entries and hard state are written concurrently, except when the hard state
   * commits entries not yet durable: then the entries go first, so that a crash never leaves a
   * commit index past the end of the log.
   */
  async persist(req: PersistRequest): Promise<void> {
    if (this.lazyFailure !== undefined) throw this.lazyFailure;
    if (req.snapshot) await this.installSnapshot(req.snapshot.metadata, req.snapshot.data);
    // Usually one step; with membership changes among the entries, the commit covering the
    // previous change is made durable before the next change is (see the core's persistSteps).
    const steps = persistSteps(req.entries, req.hardState);
    const changesMembership = req.entries.some((e) => e.type === EntryType.ConfChange);
    for (const step of steps) {
      await this.persistStep(step.entries, step.hardState, !changesMembership);
    }
  }

  /**
   * Entries and hard state of one step. A hard state that only moves the commit index (same term
   * and vote) is written without fsync where the store allows it, and never waited for (etcd's
   * MustSync is false for it too):
   * nothing the node says depends on its commit index being durable, a restart learns the commit
   * again from the leader, and a state machine found ahead of it at startup is itself proof that
   * those entries were committed (the engine raises the commit index to it). Term and vote, and
   * any step that changes membership (where persistSteps orders the commit), are waited for.
   */
  private async persistStep(
    entries: readonly Entry[],
    hs: HardState | undefined,
    commitMayLag: boolean,
  ): Promise<void> {
    const { log, hardState } = this.stores;
    const last = entries.length > 0 ? (entries.at(-1) as Entry).index : undefined;
    const appended = entries.length > 0 ? log.append(entries) : undefined;
    const lazy =
      hs !== undefined &&
      commitMayLag &&
      hs.term === this.lastSaved.term &&
      hs.vote === this.lastSaved.vote;
    if (hs) this.lastSaved = hs;
    if (hs && lazy) {
      // Without fsync where the store can (saveUnsynced), and still never a commit index past
      // the durable end of the log: after the append.
      const save = async () => {
        if (hardState.saveUnsynced) hardState.saveUnsynced(hs);
        else await hardState.save(hs);
      };
      const saved = appended && hs.commit > this.durableLast ? appended.then(save) : save();
      saved.catch((e: unknown) => {
        this.lazyFailure ??= e;
      });
      await appended;
    } else if (hs && appended && hs.commit > this.durableLast) {
      await appended;
      await hardState.save(hs);
    } else {
      await Promise.all([appended, hs ? hardState.save(hs) : undefined]);
    }
    if (last !== undefined) this.durableLast = last;
  }

  /** Stores a snapshot received from the leader and restarts the log after it. */
  async installSnapshot(metadata: SnapshotMetadata, data: Uint8Array): Promise<void> {
    await this.stores.snapshots.save(metadata, data);
    await this.afterSnapshotStored(metadata);
  }

  /**
   * Brings the log in line with a snapshot already stored (saved locally, or received in chunks
   * through stores.snapshots.writer()).
   */
  async afterSnapshotStored(metadata: SnapshotMetadata): Promise<void> {
    const { log } = this.stores;
    if (metadata.index <= log.lastIndex() && log.term(metadata.index) === metadata.term) {
      await log.compact(metadata.index);
    } else {
      await log.reset(metadata.index, metadata.term);
      this.durableLast = metadata.index;
    }
  }

  /**
   * Saves a snapshot of the state machine at `index` (applied by it), then compacts the log up
   * to `index - keepEntries`, keeping some entries for followers that are only a little behind.
   */
  async createSnapshot(
    index: number,
    confState: ConfState,
    data: Uint8Array,
    keepEntries = 0,
  ): Promise<SnapshotMetadata> {
    const metadata = { index, term: this.stores.log.term(index), confState };
    await this.stores.snapshots.save(metadata, data);
    await this.compactBehindSnapshot(metadata, keepEntries);
    return metadata;
  }

  /**
   * The second half of createSnapshot, for a caller that saved the snapshot itself while the log
   * went on (the engine): compacts the log up to `index - keepEntries`, but only if that snapshot
   * is still the newest and the log still holds its index with its term (a newer snapshot may
   * have been installed, and the log reset, meanwhile). Must not overlap a persist.
   */
  async compactBehindSnapshot(metadata: SnapshotMetadata, keepEntries = 0): Promise<void> {
    const { log, snapshots } = this.stores;
    if (snapshots.latest()?.metadata.index !== metadata.index) return;
    if (metadata.index > log.lastIndex() || metadata.index < log.firstIndex() - 1) return;
    if (log.term(metadata.index) !== metadata.term) return;
    const to = metadata.index - keepEntries;
    if (to > log.firstIndex() - 1) await log.compact(to);
  }
}
