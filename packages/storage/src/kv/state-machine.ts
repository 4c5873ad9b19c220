// The KV state machine's interface, the same for every backend (memory, file, LMDB). The runtime
// applies committed entries with applyBatch (one Ready's entries together: the LMDB backend
// commits them in one transaction), serves reads locally (after ReadIndex, or at once for
// eventual reads), and moves state with snapshot()/restore().

import type { KvEventListener } from "./events.js";
import type { SnapshotSource } from "./snapshot-codec.js";
import type {
  ApplyResult,
  KeyValue,
  KvCommand,
  KvEntry,
  KvRevisionEvents,
  LeaseInfo,
  LeaseTimeToLive,
  RangeRequest,
  RangeResponse,
} from "./types.js";

export type KvBackend = "memory" | "file" | "lmdb";

export interface ReadOptions {
  /** The revision to read at (0 or absent: current). */
  readonly revision?: number;
}

export interface PrefixScanOptions extends ReadOptions {
  readonly limit?: number;
  readonly keysOnly?: boolean;
}

export interface PrefixScan {
  /** The revision the scan read at. */
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  readonly more: boolean;
}

/** Reads served from local state. They throw KvError ("compacted", "future-revision", ...). */
export interface KvReader {
  /** The current revision (0 before the first write). */
  revision(): number;
  /** Reads below this revision fail with "compacted". */
  compactRevision(): number;
  /** The latest log time applied (ms). */
  logTimeMs(): number;
  range(req: RangeRequest): RangeResponse;
  get(key: Uint8Array, opts?: ReadOptions): KeyValue | undefined;
  /** Several keys at one revision. */
  getMany(keys: readonly Uint8Array[], opts?: ReadOptions): (KeyValue | undefined)[];
  /** Every key starting with `prefix`, and the revision read at. */
  prefixScan(prefix: Uint8Array, opts?: PrefixScanOptions): PrefixScan;
  /** `nowMs` defaults to the latest log time applied. */
  leaseTimeToLive(id: number, opts?: { keys?: boolean; nowMs?: number }): LeaseTimeToLive;
  /** All leases, by id. */
  leases(): LeaseInfo[];
  /** One lease, if it exists. */
  lease(id: number): LeaseInfo | undefined;
  /**
   * Ids of leases whose log-time expiry is at or before `nowMs`, soonest first (diagnostics; the
   * leader decides expiry on its monotonic clock, packages/engine/src/leases/).
   */
  expiredLeases(nowMs: number, limit?: number): number[];
  /**
   * The events of revisions `startRevision`.. the current one, rebuilt from history exactly as
   * they were emitted (with previous versions), at most `limit` revisions (default 1000): page
   * on from the last revision + 1. Throws KvError "compacted" if `startRevision` is at or below
   * the compacted revision. For watches that start in the past.
   */
  eventsSince(startRevision: number, limit?: number): KvRevisionEvents[];
}

export interface KvStateMachine extends KvReader {
  readonly backend: KvBackend;
  /** The last log index applied (after open: where the caller's log replay starts from + 1). */
  appliedIndex(): number;
  /**
   * Applies one committed entry. `command` is the entry's data (empty: a no-op that only
   * advances the applied index) or an already decoded command. Indexes must increase. Answers,
   * events and (memory backends) stored versions may keep views into the command's bytes or
   * references to a decoded command's arrays: do not mutate them afterwards.
   */
  apply(index: number, command: Uint8Array | KvCommand): ApplyResult;
  /** Applies entries atomically and durably together (LMDB: one synced transaction). */
  applyBatch(entries: readonly KvEntry[]): ApplyResult[];
  /** Calls `listener` with each applied command's events; returns the unsubscribe function. */
  onEvents(listener: KvEventListener): () => void;
  /**
   * The state as snapshot chunks. The LMDB backend reads a consistent read transaction; the
   * in-memory backends read live state, so consume the stream synchronously (or write it to a
   * file first): applying an entry before the stream ends makes it throw. `frameBytes`: about
   * how many bytes each chunk holds (default 1 MiB).
   */
  snapshot(frameBytes?: number): Iterable<Uint8Array>;
  /**
   * Whether snapshot()'s stream reads one read transaction opened at its first chunk (LMDB): it
   * may then be consumed while entries are applied, and yields the state of the applied index
   * at its first chunk. False: consume it synchronously.
   */
  readonly isolatedSnapshots: boolean;
  /** The whole snapshot as one byte array. */
  snapshotBytes(): Uint8Array;
  /**
   * Replaces the state with a snapshot's (bytes or chunks). The snapshot is verified completely
   * before anything changes: a corrupt one throws KvError "corrupt-snapshot" and keeps the state.
   * The memory backends keep views into the chunks: do not reuse their buffers.
   */
  restore(source: SnapshotSource): Promise<void>;
  close(): Promise<void>;
}
