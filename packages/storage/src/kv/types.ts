// The KV state machine's values, as the rest of the code sees them: plain objects with JS numbers
// (revisions, lease ids and times are safe integers). codec.ts maps them to and from the protobuf
// messages of proto/dengine/v1/kv.proto. The model is etcd's (DESIGN.md principle 6).

/** One version of a key. */
export interface KeyValue {
  readonly key: Uint8Array;
  /** The revision of the write that created the key (since its last deletion). */
  readonly createRevision: number;
  /** The revision of the last write to the key. */
  readonly modRevision: number;
  /** Writes since creation (1 after creation). 0 only in tombstones (history records). */
  readonly version: number;
  readonly value: Uint8Array;
  /** The lease the key is attached to, or 0. */
  readonly lease: number;
}

export type SortOrder = "none" | "ascend" | "descend";
export type SortTarget = "key" | "version" | "create" | "mod" | "value";

/**
 * Reads [key, rangeEnd). rangeEnd absent or empty: only `key`; "\0": every key >= `key`
 * (use prefixEnd() for a prefix).
 */
export interface RangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  /** Maximum number of keys returned (0 or absent: no limit). */
  readonly limit?: number;
  /** The revision to read at (0 or absent: current). */
  readonly revision?: number;
  readonly sortOrder?: SortOrder;
  readonly sortTarget?: SortTarget;
  readonly keysOnly?: boolean;
  readonly countOnly?: boolean;
  readonly minModRevision?: number;
  readonly maxModRevision?: number;
  readonly minCreateRevision?: number;
  readonly maxCreateRevision?: number;
}

export interface RangeResponse {
  /** The revision the range was read at. */
  readonly revision: number;
  readonly kvs: readonly KeyValue[];
  /** Whether more keys matched than `limit` allowed. */
  readonly more: boolean;
  /** Keys in the range at that revision (before limit and filters, as etcd counts). */
  readonly count: number;
}

export interface PutRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly lease?: number;
  readonly prevKv?: boolean;
  /** Keep the current value; the key must exist and `value` must be empty. */
  readonly ignoreValue?: boolean;
  /** Keep the current lease; the key must exist and `lease` must be 0. */
  readonly ignoreLease?: boolean;
}

export interface PutResponse {
  readonly revision: number;
  readonly prevKv?: KeyValue;
}

export interface DeleteRangeRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly prevKv?: boolean;
}

export interface DeleteRangeResponse {
  /** The revision of the deletion; the current revision if nothing was deleted. */
  readonly revision: number;
  readonly deleted: number;
  readonly prevKvs: readonly KeyValue[];
}

export type CompareResult = "=" | "!=" | "<" | ">";
export type CompareTarget = "version" | "create" | "mod" | "value" | "lease";

/**
 * A transaction condition over `key` (or every key of [key, rangeEnd)): the key's `target`
 * field `result` the operand (`value` for target "value", else `number`). A missing key has
 * version, create, mod and lease 0, and fails every value comparison (as in etcd).
 */
export interface Compare {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  readonly target: CompareTarget;
  readonly result: CompareResult;
  readonly number?: number;
  readonly value?: Uint8Array;
}

export type RequestOp =
  | ({ readonly type: "range" } & RangeRequest)
  | ({ readonly type: "put" } & PutRequest)
  | ({ readonly type: "delete-range" } & DeleteRangeRequest)
  | ({ readonly type: "txn" } & TxnRequest);

export type ResponseOp =
  | ({ readonly type: "range" } & RangeResponse)
  | ({ readonly type: "put" } & PutResponse)
  | ({ readonly type: "delete-range" } & DeleteRangeResponse)
  | ({ readonly type: "txn" } & TxnResponse);

export interface TxnRequest {
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface TxnResponse {
  readonly revision: number;
  readonly succeeded: boolean;
  readonly responses: readonly ResponseOp[];
}

export interface PutWithTtlRequest {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Seconds of log time. */
  readonly ttl: number;
  readonly prevKv?: boolean;
}

/** What a command does. */
export type KvOperation =
  | ({ readonly type: "put" } & PutRequest)
  | ({ readonly type: "delete-range" } & DeleteRangeRequest)
  | ({ readonly type: "txn" } & TxnRequest)
  | { readonly type: "compaction"; readonly revision: number }
  /** `id` absent or 0: generated from the log index. `ttl` in seconds of log time. */
  | { readonly type: "lease-grant"; readonly ttl: number; readonly id?: number }
  | { readonly type: "lease-revoke"; readonly id: number }
  | { readonly type: "lease-keep-alive"; readonly id: number }
  /**
   * Proposed by the leader with the leases whose time ran out on its monotonic clock, each with
   * the renew index it measured from (`renewIndexes[i]` for `ids[i]`): a lease renewed since is
   * kept. Without renewIndexes (commands from before checkpoints) each is checked against log time.
   */
  | {
      readonly type: "lease-expire";
      readonly ids: readonly number[];
      readonly renewIndexes?: readonly number[];
    }
  /** Proposed by the leader every few seconds: the leases' remaining times on its clock. */
  | { readonly type: "lease-checkpoint"; readonly checkpoints: readonly LeaseCheckpoint[] }
  | ({ readonly type: "put-with-ttl" } & PutWithTtlRequest)
  /** Advances the log time only (and expires idle sessions). */
  | { readonly type: "noop" };

/** One lease's remaining time as the leader measured it. */
export interface LeaseCheckpoint {
  readonly id: number;
  readonly remainingMs: number;
  /** The renew index the leader measured from; a lease renewed since ignores the checkpoint. */
  readonly renewIndex: number;
}

/** Identifies a client write, so a retry gets the remembered answer instead of applying again. */
export interface ClientSession {
  readonly clientId: string;
  /** Positive, increasing per client. */
  readonly sequence: number;
  /**
   * The client's lowest sequence still awaiting an answer; answers below it are forgotten.
   * Absent or 0: this write's sequence (a client with one write in flight).
   */
  readonly firstIncomplete?: number;
}

/** One entry's payload for the state machine. */
export interface KvCommand {
  readonly op: KvOperation;
  /** The leader-assigned log time in ms (leases, sessions). Absent: the latest log time seen. */
  readonly timeMs?: number;
  readonly session?: ClientSession;
}

/**
 * The errors a command can answer with (every replica computes the same one). The order is the
 * wire order: the protobuf enum value of each code is its position here plus one (0 = none).
 */
export const KV_ERROR_CODES = [
  "compacted",
  "future-revision",
  "key-not-found",
  "lease-not-found",
  "lease-exists",
  "lease-expired",
  "duplicate-key",
  "invalid-argument",
  "session-answer-discarded",
] as const;

export type KvErrorCode = (typeof KV_ERROR_CODES)[number];

/** The answer to a command. Errors are answers too: every replica computes the same one. */
export type KvResponse =
  | ({ readonly type: "put" } & PutResponse)
  | ({ readonly type: "delete-range" } & DeleteRangeResponse)
  | ({ readonly type: "txn" } & TxnResponse)
  | { readonly type: "compaction"; readonly revision: number }
  | {
      readonly type: "lease-grant";
      readonly revision: number;
      readonly id: number;
      readonly ttl: number;
    }
  | { readonly type: "lease-revoke"; readonly revision: number }
  | {
      readonly type: "lease-keep-alive";
      readonly revision: number;
      readonly id: number;
      readonly ttl: number;
    }
  | {
      readonly type: "lease-expire";
      readonly revision: number;
      readonly expired: readonly number[];
    }
  | {
      readonly type: "put-with-ttl";
      readonly revision: number;
      readonly lease: number;
      readonly prevKv?: KeyValue;
    }
  | { readonly type: "lease-checkpoint"; readonly revision: number }
  | { readonly type: "noop"; readonly revision: number }
  | {
      readonly type: "error";
      readonly revision: number;
      readonly code: KvErrorCode;
      readonly message: string;
    };

/** A change of one key. Deletions carry a tombstone `kv` (version 0) with the key and revision. */
export interface KvEvent {
  readonly type: "put" | "delete";
  readonly kv: KeyValue;
  /** The version before this change, if the key existed. */
  readonly prevKv?: KeyValue;
}

/** The events of one revision (one command), in the order the command made them. */
export interface KvEventBatch {
  readonly index: number;
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

/** The events of one past revision, rebuilt from history (KvReader.eventsSince). */
export interface KvRevisionEvents {
  readonly revision: number;
  readonly events: readonly KvEvent[];
}

export interface ApplyResult {
  readonly index: number;
  readonly response: KvResponse;
  /** Empty unless the command changed keys; all share `response`'s revision. */
  readonly events: readonly KvEvent[];
  /** The answer was remembered from an earlier application of the same (client, sequence). */
  readonly duplicate: boolean;
}

/** One committed log entry for the state machine. Empty data: a no-op that advances the index. */
export interface KvEntry {
  readonly index: number;
  readonly command: Uint8Array | KvCommand;
}

export interface LeaseTimeToLive {
  readonly id: number;
  /** Whole seconds left at `now` (0 once expired); -1 if there is no such lease (as etcd). */
  readonly ttl: number;
  readonly grantedTtl: number;
  /** Attached keys, if asked for. */
  readonly keys: readonly Uint8Array[];
}

export interface LeaseInfo {
  readonly id: number;
  readonly ttl: number;
  /**
   * The log time (ms) at which the lease expires if nothing renews it: informational (followers'
   * time-to-live answers); the leader decides expiry on its monotonic clock from remainingMs.
   */
  readonly expiryMs: number;
  /** Milliseconds left as of the last grant, renewal or checkpoint. */
  readonly remainingMs: number;
  /** The log index of the last grant or renewal: expire and checkpoint commands name it. */
  readonly renewIndex: number;
}
