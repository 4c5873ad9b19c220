// The storage interface under the KV state machine: a few ordered tables keyed by bytes. The
// state machine logic (engine.ts and the modules it calls) is written once against it; the memory
// backend implements it with sorted maps, the LMDB backend with LMDB databases in one
// environment, so every backend has the same semantics by construction.
//
// Tables and their keys:
//   kv          user key -> the live version of the key (absent once deleted)
//   hist        histKey(key, rev) -> an older version (modRevision = rev) or a tombstone at rev;
//               together with kv it is each key's whole uncompacted history (keyspace.ts)
//   changes     u64(first revision of the entry) -> (revision, key) pairs an apply batch wrote, a
//               batch's split into entries of ~1.5 KB that never split a revision: what
//               compaction must look at, and the future watch hub's replay log
//   leases      u64(id) -> lease
//   leaseKeys   u64(id) ++ key -> (index) keys attached to the lease
//   leaseExpiry u64(expiryMs) ++ u64(id) -> (index) leases by expiry time
//   sessions    utf8(client id) -> client session with remembered answers
//   sessionIdle u64(lastSeenMs) ++ utf8(client id) -> (index) sessions by last activity

import type { KeyValue, KvResponse, LeaseInfo } from "./types.js";

export interface KvTable<V> {
  get(key: Uint8Array): V | undefined;
  put(key: Uint8Array, value: V): void;
  /**
   * put() if `key` is absent, returning true; else changes nothing and returns false. On LMDB
   * one B-tree descent, where get() then put() take two.
   */
  insert(key: Uint8Array, value: V): boolean;
  delete(key: Uint8Array): void;
  /**
   * Entries with start <= key < end (end undefined: through the last key), ascending, or
   * descending with `reverse`. Lazy: do not write to the table while iterating.
   */
  range(
    start: Uint8Array,
    end: Uint8Array | undefined,
    reverse?: boolean,
  ): Iterable<readonly [Uint8Array, V]>;
  /** The number of entries in [start, end). */
  count(start: Uint8Array, end: Uint8Array | undefined): number;
}

export interface ChangeRecord {
  readonly revision: number;
  readonly key: Uint8Array;
  /**
   * The write created the key and moved nothing into hist: compaction has nothing to drop for
   * it (compaction.ts). Absent (false) in records written before the flag existed, which
   * compaction then visits as before.
   */
  readonly created: boolean;
}

export type LeaseRecord = LeaseInfo;

export interface SessionAnswer {
  readonly sequence: number;
  readonly response: KvResponse;
}

export interface SessionRecord {
  readonly clientId: string;
  /** Answers to sequences below this were forgotten. */
  readonly floor: number;
  readonly lastSeenMs: number;
  /** By ascending sequence. */
  readonly answers: readonly SessionAnswer[];
}

/** The scalar state, saved with every applied batch. */
export interface StateMeta {
  readonly appliedIndex: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly logTimeMs: number;
}

export const EMPTY_META: StateMeta = {
  appliedIndex: 0,
  revision: 0,
  compactRevision: 0,
  logTimeMs: 0,
};

/** Index tables hold no value; `true` marks presence. */
export type Present = true;

export interface KvTableSet {
  readonly kv: KvTable<KeyValue>;
  readonly hist: KvTable<KeyValue>;
  readonly changes: KvTable<readonly ChangeRecord[]>;
  readonly leases: KvTable<LeaseRecord>;
  readonly leaseKeys: KvTable<Present>;
  readonly leaseExpiry: KvTable<Present>;
  readonly sessions: KvTable<SessionRecord>;
  readonly sessionIdle: KvTable<Present>;
}

/** A consistent read-only view of the tables (for a snapshot); release() when done. */
export interface KvTablesView {
  readonly tables: KvTableSet;
  /** Whether later writes leave the view unchanged (a read transaction), or show through. */
  readonly isolated: boolean;
  readonly meta: StateMeta;
  release(): void;
}

export interface KvTables extends KvTableSet {
  /**
   * Whether put() copies what it is given (LMDB encodes it to disk). If not (memory), values
   * must not be views into buffers the caller may reuse.
   */
  readonly copiesOnWrite: boolean;
  /** Whether view() is isolated (a read transaction): KvTablesView.isolated, known in advance. */
  readonly isolatedViews: boolean;
  loadMeta(): StateMeta;
  saveMeta(meta: StateMeta): void;
  /** Runs `fn` as one atomic write (LMDB: one synced transaction). Throwing aborts it. */
  write<T>(fn: () => T): T;
  /** Empties every table (inside write()). */
  clear(): void;
  view(): KvTablesView;
  close(): Promise<void>;
}
