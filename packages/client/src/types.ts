// The client API: what an application sees, the same for the network client (createClient) and
// the embedded engine's in-process client. Keys and values are bytes; strings are accepted and
// encoded as UTF-8. Revisions, versions and lease ids are JS numbers (safe integers).

import type { LeaseApi } from "./lease/types.js";
import type { Watcher, WatchOptions } from "./watch/types.js";

export type * from "./lease/types.js";
export type * from "./watch/types.js";

/** A key or value: bytes, or a string encoded as UTF-8. */
export type Bytes = string | Uint8Array;

/**
 * How a read is served. "linearizable" (the default): a ReadIndex round through the leader, so
 * the read sees every write acknowledged before it began. "lease": the leader answers while its
 * lease holds (no round trip; relies on bounded clock drift). "eventual": the local state of
 * whichever node answers, possibly stale.
 */
export type Consistency = "linearizable" | "lease" | "eventual";

/**
 * The exactly-once identity of a write: the state machine remembers the answer per
 * (clientId, sequence) and answers a retry with it instead of applying the write again.
 */
export interface WriteSession {
  /** The client's id (random, chosen by the client). */
  readonly clientId: string;
  /** The write's sequence number (positive, increasing per client; a retry reuses it). */
  readonly sequence: number;
  /** The client's lowest sequence still awaiting an answer (answers below it may be forgotten). */
  readonly firstIncomplete: number;
}

export interface CallOptions {
  /** Cancels the call. A cancelled write's outcome is unknown. */
  readonly signal?: AbortSignal;
  /** Deadline for the whole call, retries included (default: the client's). */
  readonly timeoutMs?: number;
  /**
   * Writes only: the session to write with. The network client assigns one per write and reuses
   * it on its own retries; pass `error.session` of a write that failed with outcomeUnknown to
   * retry it so that it applies at most once. The server passes the caller's session to the
   * engine this way. Ignored by reads.
   */
  readonly session?: WriteSession;
}

export interface ReadOptions extends CallOptions {
  /** Default: the server's default (linearizable unless configured otherwise). */
  readonly consistency?: Consistency;
  /** Read at this revision (0 or absent: current). */
  readonly revision?: number;
}

/** One version of a key. */
export interface KeyValue {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** The lease the key is attached to, or 0. */
  readonly lease: number;
}

export interface PutOptions extends CallOptions {
  /** Attach the key to this lease. */
  readonly lease?: number;
  /** Grant a lease of this many seconds for the key, in the same revision. */
  readonly ttlSeconds?: number;
  /** Return the previous version. */
  readonly prevKv?: boolean;
}

export interface PutResult {
  readonly revision: number;
  readonly prevKv?: KeyValue;
  /** The lease granted for ttlSeconds (0 if none). */
  readonly lease: number;
}

export type SortOrder = "none" | "ascend" | "descend";
export type SortTarget = "key" | "version" | "create" | "mod" | "value";

export interface RangeOptions extends ReadOptions {
  /** The first key (or the only key without rangeEnd). Ignored with `prefix`. */
  readonly key?: Bytes;
  /** The end of the range (exclusive); "\0": every key >= key. */
  readonly rangeEnd?: Bytes;
  /** Every key starting with this. */
  readonly prefix?: Bytes;
  /** The maximum number of keys (0 or absent: no limit). */
  readonly limit?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResult {
  /** The revision read at. */
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  /** Whether more keys matched than `limit` allowed. */
  readonly more: boolean;
  /** Keys in the range (before limit and filters). */
  readonly count: number;
}

export interface GetManyResult {
  readonly revision: number;
  /** One per requested key, in order; undefined if absent. */
  readonly kvs: readonly (KeyValue | undefined)[];
}

export interface DeleteOptions extends CallOptions {
  /** Delete [key, rangeEnd) instead of one key. */
  readonly rangeEnd?: Bytes;
  /** Delete every key starting with the given key (the key is the prefix). */
  readonly prefix?: boolean;
  readonly prevKv?: boolean;
}

export interface DeleteResult {
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export interface CompareAndSwapResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** The key before the command, if it existed. */
  readonly prevKv?: KeyValue;
}

export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";
export type CompareResult = "=" | "!=" | "<" | ">";

/** A transaction condition: the key's `target` compared with the operand. */
export interface TxnCompare {
  readonly key: Bytes;
  readonly rangeEnd?: Bytes;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  /** The operand for target "value". */
  readonly value?: Bytes;
  /** The operand for the other targets. */
  readonly number?: number;
}

export type TxnOp =
  | {
      readonly type: "put";
      readonly key: Bytes;
      readonly value: Bytes;
      readonly lease?: number;
      readonly prevKv?: boolean;
    }
  | {
      readonly type: "get";
      readonly key: Bytes;
      readonly rangeEnd?: Bytes;
      readonly limit?: number;
    }
  | {
      readonly type: "delete";
      readonly key: Bytes;
      readonly rangeEnd?: Bytes;
      readonly prevKv?: boolean;
    };

export interface Txn {
  readonly compare: readonly TxnCompare[];
  readonly success: readonly TxnOp[];
  readonly failure?: readonly TxnOp[];
}

export type TxnOpResult =
  | { readonly type: "put"; readonly revision: number; readonly prevKv?: KeyValue }
  | {
      readonly type: "get";
      readonly revision: number;
      readonly kvs: readonly KeyValue[];
      readonly more: boolean;
      readonly count: number;
    }
  | {
      readonly type: "delete";
      readonly revision: number;
      readonly deleted: number;
      readonly prevKvs: readonly KeyValue[];
    };

export interface TxnResult {
  readonly revision: number;
  readonly succeeded: boolean;
  readonly results: readonly TxnOpResult[];
}

export type MemberRole = "voter" | "learner";

export interface Member {
  readonly id: number;
  readonly role: MemberRole;
  readonly clientAddress: string;
  readonly peerAddress: string;
  /** A learner that is never promoted automatically. */
  readonly readOnly: boolean;
}

export interface MemberList {
  readonly members: readonly Member[];
  /** 0: no leader known. */
  readonly leaderId: number;
}

export interface AddLearnerOptions extends CallOptions {
  readonly id: number;
  readonly clientAddress: string;
  readonly peerAddress: string;
  readonly readOnly?: boolean;
}

export interface LeaderInfo {
  /** 0: no leader known. */
  readonly leaderId: number;
  readonly leaderAddress: string;
  readonly term: number;
}

export interface NodeStatus {
  readonly id: number;
  readonly clusterId: string;
  readonly role: "follower" | "pre-candidate" | "candidate" | "leader";
  readonly term: number;
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  readonly revision: number;
  readonly members: readonly Member[];
  /** Leader only: each follower's match index. */
  readonly matchIndex: Readonly<Record<number, number>>;
}

export interface SnapshotInfo {
  readonly index: number;
  readonly term: number;
  readonly bytes: number;
}

/** The key-value operations. */
export interface KvApi {
  put(key: Bytes, value: Bytes, opts?: PutOptions): Promise<PutResult>;
  /** The key's current version (or at opts.revision), or undefined. */
  get(key: Bytes, opts?: ReadOptions): Promise<KeyValue | undefined>;
  getMany(keys: readonly Bytes[], opts?: ReadOptions): Promise<GetManyResult>;
  range(opts: RangeOptions): Promise<RangeResult>;
  /** Shorthand for range({ prefix, ...opts }). */
  prefix(
    prefix: Bytes,
    opts?: Omit<RangeOptions, "prefix" | "key" | "rangeEnd">,
  ): Promise<RangeResult>;
  delete(key: Bytes, opts?: DeleteOptions): Promise<DeleteResult>;
  /** Sets key to value if its value is `expected` now; expected undefined: if it does not exist. */
  compareAndSwap(
    key: Bytes,
    expected: Bytes | undefined,
    value: Bytes,
    opts?: CallOptions,
  ): Promise<CompareAndSwapResult>;
  txn(txn: Txn, opts?: CallOptions): Promise<TxnResult>;
  /** Discards history before `revision`. */
  compact(revision: number, opts?: CallOptions): Promise<{ readonly revision: number }>;
}

/** Membership, leadership and status. */
export interface ClusterApi {
  members(opts?: CallOptions & { readonly linearizable?: boolean }): Promise<MemberList>;
  addLearner(opts: AddLearnerOptions): Promise<MemberList>;
  promote(id: number, opts?: CallOptions): Promise<MemberList>;
  removeMember(id: number, opts?: CallOptions): Promise<MemberList>;
  /** Hands leadership to `to` (absent: the most caught-up voter); resolves with the new leader. */
  transferLeader(to?: number, opts?: CallOptions): Promise<{ readonly leaderId: number }>;
  leader(opts?: CallOptions): Promise<LeaderInfo>;
  /** The status of the node that answers (network client: the node at `endpoint`, or any). */
  status(opts?: CallOptions & { readonly endpoint?: string }): Promise<NodeStatus>;
  /**
   * The members at once, then the members after every committed membership change (as the
   * serving node applies them). Ends when `signal` aborts or the loop breaks.
   */
  watchMembers(opts?: CallOptions): AsyncIterable<MemberList>;
}

/** Snapshots and backups. */
export interface MaintenanceApi {
  takeSnapshot(opts?: CallOptions): Promise<SnapshotInfo>;
  /** The newest snapshot as stored (self-checking), in chunks: a backup. */
  downloadSnapshot(opts?: CallOptions & { readonly fresh?: boolean }): AsyncIterable<Uint8Array>;
}

/** What both the network client and the embedded engine's client offer. */
export interface DEngineClient extends KvApi {
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;
  /** Grant, revoke, keep alive and inspect leases. */
  readonly leases: LeaseApi;
  /** Watches a key, prefix or range (see Watcher). */
  watch(opts: WatchOptions): Watcher;
  /** Releases connections; pending calls fail with UnavailableError. */
  close(): Promise<void>;
}
