// The errors every d-engine call can fail with, as classes an application can catch by type.
// Each says whether the outcome is unknown: a write that failed with outcomeUnknown may or may
// not have been applied (retrying it with the same session applies it at most once). Servers
// send them as a Connect error with an ErrorDetail (see wire/errors.ts); the embedded client
// throws the same classes.
import type { WriteSession } from "./types.js";

export type ErrorCode =
  | "not-leader"
  | "resource-exhausted"
  | "limit-exceeded"
  | "invalid-argument"
  | "timeout"
  | "kv"
  | "compacted"
  | "membership"
  | "unavailable"
  | "consistency-override-forbidden"
  | "internal";

export class DEngineError extends Error {
  readonly code: ErrorCode;
  /** True when a write may or may not have been applied. */
  readonly outcomeUnknown: boolean;
  /**
   * For a write whose outcome is unknown: the session it was sent with. Retrying the write with
   * `{ session }` applies it at most once (the state machine answers a duplicate from memory).
   */
  session?: WriteSession;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { outcomeUnknown?: boolean; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.outcomeUnknown = opts.outcomeUnknown ?? false;
  }
}

/** This node does not lead; `leaderId` / `leaderAddress` say who does, if known (0 / ""). */
export class NotLeaderError extends DEngineError {
  constructor(
    readonly leaderId: number,
    readonly leaderAddress: string,
    message = leaderId
      ? `not the leader; the leader is node ${leaderId}${leaderAddress ? ` at ${leaderAddress}` : ""}`
      : "not the leader, and no leader is known",
  ) {
    super("not-leader", message);
  }
}

/** Too many pending requests; retry after `retryAfterMs`. Nothing was done. */
export class ResourceExhaustedError extends DEngineError {
  constructor(
    readonly retryAfterMs: number,
    message: string,
  ) {
    super("resource-exhausted", message);
  }
}

/** A request broke a size limit: `limitName` is `limit`, the request had `actual`. */
export class LimitExceededError extends DEngineError {
  constructor(
    readonly limitName: string,
    readonly limit: number,
    readonly actual: number,
    message = `${limitName} is ${limit}, the request has ${actual}`,
  ) {
    super("limit-exceeded", message);
  }
}

export class InvalidArgumentError extends DEngineError {
  constructor(message: string) {
    super("invalid-argument", message);
  }
}

/** The deadline passed (or the call was cancelled). For writes the outcome is unknown. */
export class TimeoutError extends DEngineError {
  constructor(message: string, outcomeUnknown: boolean) {
    super("timeout", message, { outcomeUnknown });
  }
}

/** The state machine refused the command (every replica refused it the same way). */
export class KvCommandError extends DEngineError {
  /** The state machine's code, e.g. "lease-not-found", "duplicate-key". */
  constructor(
    readonly kvCode: string,
    message: string,
  ) {
    super("kv", message);
  }
}

/** A read asked for a compacted revision. */
export class CompactedError extends DEngineError {
  constructor(message: string) {
    super("compacted", message);
  }
}

/** A membership change was refused. */
export class MembershipError extends DEngineError {
  constructor(message: string) {
    super("membership", message);
  }
}

/** The node is shutting down or unreachable. */
export class UnavailableError extends DEngineError {
  constructor(message: string, outcomeUnknown = false) {
    super("unavailable", message, { outcomeUnknown });
  }
}

export class ConsistencyOverrideForbiddenError extends DEngineError {
  constructor(message: string) {
    super("consistency-override-forbidden", message);
  }
}

export class InternalError extends DEngineError {
  constructor(message: string, outcomeUnknown = true) {
    super("internal", message, { outcomeUnknown });
  }
}

/**
 * The server ended a watch: its start revision was compacted (`compactRevision` says to what;
 * read the current state and watch again from there), the watcher fell too far behind
 * ("slow consumer"), or the node stopped. Every batch delivered before it is valid: a new watch
 * from the last delivered revision + 1 continues without a gap (unless compacted).
 */
export class WatchCanceledError extends DEngineError {
  constructor(
    readonly reason: string,
    /** The compacted revision, if the watch was canceled because its start was compacted. */
    readonly compactRevision = 0,
    message = `the watch was canceled: ${reason}${compactRevision ? ` (compacted revision ${compactRevision})` : ""}`,
  ) {
    super(compactRevision ? "compacted" : "unavailable", message);
  }
}

export function isDEngineError(e: unknown): e is DEngineError {
  return e instanceof DEngineError;
}
