// Typed errors <-> Connect errors. A server turns any failure into a ConnectError whose code a
// plain gRPC or Connect client understands, with an ErrorDetail that says exactly what happened
// (the d-engine code, outcome unknown, leader hint, limit, retry-after, state machine code). The
// client turns it back into the same typed class. A failure with no detail did not come from a
// d-engine handler: it is the transport's (connection refused or reset, deadline, cancel).
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { type ErrorDetail, ErrorDetailSchema, ErrorCode as PbErrorCode } from "@d-engine/proto/api";
import {
  CompactedError,
  ConsistencyOverrideForbiddenError,
  DEngineError,
  type ErrorCode,
  InternalError,
  InvalidArgumentError,
  KvCommandError,
  LimitExceededError,
  MembershipError,
  NotLeaderError,
  ResourceExhaustedError,
  TimeoutError,
  UnavailableError,
} from "../errors.js";
import { toU64 } from "./numbers.js";

const TO_WIRE: Record<ErrorCode, { wire: PbErrorCode; connect: Code }> = {
  "not-leader": { wire: PbErrorCode.NOT_LEADER, connect: Code.FailedPrecondition },
  "resource-exhausted": { wire: PbErrorCode.RESOURCE_EXHAUSTED, connect: Code.ResourceExhausted },
  // etcd answers "request is too large" with InvalidArgument too: retrying cannot help.
  "limit-exceeded": { wire: PbErrorCode.LIMIT_EXCEEDED, connect: Code.InvalidArgument },
  "invalid-argument": { wire: PbErrorCode.INVALID_ARGUMENT, connect: Code.InvalidArgument },
  timeout: { wire: PbErrorCode.TIMEOUT, connect: Code.DeadlineExceeded },
  kv: { wire: PbErrorCode.KV, connect: Code.FailedPrecondition },
  // etcd's ErrCompacted is OutOfRange.
  compacted: { wire: PbErrorCode.COMPACTED, connect: Code.OutOfRange },
  membership: { wire: PbErrorCode.MEMBERSHIP, connect: Code.FailedPrecondition },
  unavailable: { wire: PbErrorCode.UNAVAILABLE, connect: Code.Unavailable },
  "consistency-override-forbidden": {
    wire: PbErrorCode.CONSISTENCY_OVERRIDE_FORBIDDEN,
    connect: Code.FailedPrecondition,
  },
  internal: { wire: PbErrorCode.INTERNAL, connect: Code.Internal },
};

/** A DEngineError, also one from another copy of this package (duck-typed by code). */
function asDEngineError(e: unknown): DEngineError | undefined {
  if (e instanceof DEngineError) return e;
  if (
    e instanceof Error &&
    typeof (e as { code?: unknown }).code === "string" &&
    (e as unknown as { code: string }).code in TO_WIRE &&
    typeof (e as { outcomeUnknown?: unknown }).outcomeUnknown === "boolean"
  ) {
    return e as DEngineError;
  }
  return undefined;
}

/** The ErrorDetail of a typed error. */
export function errorDetailOf(e: DEngineError): ErrorDetail {
  const f = e as unknown as Partial<
    NotLeaderError & ResourceExhaustedError & LimitExceededError & KvCommandError
  >;
  const u64 = (n: number | undefined, field: string): bigint =>
    typeof n === "number" && Number.isSafeInteger(n) && n >= 0 ? toU64(n, field) : 0n;
  return create(ErrorDetailSchema, {
    code: TO_WIRE[e.code]?.wire ?? PbErrorCode.INTERNAL,
    outcomeUnknown: e.outcomeUnknown,
    leaderId: u64(f.leaderId, "leader_id"),
    leaderAddress: f.leaderAddress ?? "",
    retryAfterMs: u64(f.retryAfterMs, "retry_after_ms"),
    limitName: f.limitName ?? "",
    limit: u64(f.limit, "limit"),
    actual: u64(f.actual, "actual"),
    kvError: f.kvCode ?? "",
  });
}

/**
 * Any failure as the ConnectError a handler throws: a typed error keeps its class in the
 * ErrorDetail; a ConnectError that carries a detail passes unchanged; anything else is an
 * internal error (outcome unknown: it may have happened after a write was proposed).
 */
export function toConnectError(e: unknown): ConnectError {
  const de = asDEngineError(e);
  if (de) {
    const code = TO_WIRE[de.code]?.connect ?? Code.Internal;
    return new ConnectError(de.message, code, undefined, [
      { desc: ErrorDetailSchema, value: errorDetailOf(de) },
    ]);
  }
  if (e instanceof ConnectError && e.findDetails(ErrorDetailSchema).length > 0) return e;
  if (e instanceof ConnectError) {
    // A ConnectError raised by the framework (a bad message, a limit) or by a handler by hand:
    // keep its code, and add the detail a d-engine client reads.
    const typed = fromDetaillessCode(e, true);
    return new ConnectError(e.rawMessage, e.code, e.metadata, [
      { desc: ErrorDetailSchema, value: errorDetailOf(typed) },
    ]);
  }
  const message = e instanceof Error ? e.message : String(e);
  const internal = new InternalError(`internal error: ${message}`);
  return new ConnectError(internal.message, Code.Internal, undefined, [
    { desc: ErrorDetailSchema, value: errorDetailOf(internal) },
  ]);
}

/** Node error codes that mean the connection was never made, so nothing was sent. */
const NOT_SENT = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EADDRNOTAVAIL",
]);

function definitelyNotSent(e: ConnectError): boolean {
  if (e.rawMessage.includes("REFUSED_STREAM")) return true;
  const seen = new Set<unknown>();
  let c: unknown = e.cause;
  while (c instanceof Error && !seen.has(c)) {
    seen.add(c);
    const code = (c as { code?: unknown }).code;
    if (typeof code === "string" && NOT_SENT.has(code)) return true;
    c = (c as { cause?: unknown }).cause;
  }
  return false;
}

function fromDetaillessCode(e: ConnectError, write: boolean): DEngineError {
  const msg = e.rawMessage;
  switch (e.code) {
    case Code.Canceled:
      return new TimeoutError(`the call was cancelled: ${msg}`, write);
    case Code.DeadlineExceeded:
      return new TimeoutError(`the deadline passed: ${msg}`, write);
    case Code.InvalidArgument:
      return new InvalidArgumentError(msg);
    case Code.ResourceExhausted:
      return new ResourceExhaustedError(0, msg);
    case Code.Unimplemented:
      // The server has no such method (an older server?): nothing was done.
      return new InternalError(`the server does not implement this call: ${msg}`, false);
    case Code.Internal:
      return new InternalError(msg, write && !definitelyNotSent(e));
    default:
      return new UnavailableError(msg, write && !definitelyNotSent(e));
  }
}

/**
 * Any failure of a call as a typed error. With an ErrorDetail: the matching class. Without one
 * (the transport failed): UnavailableError (TimeoutError for a deadline or cancel), whose
 * outcome is unknown for a write (`opts.write`) unless the connection was refused outright.
 */
export function fromConnectError(e: unknown, opts: { write?: boolean } = {}): DEngineError {
  const de = asDEngineError(e);
  if (de) return de;
  const write = opts.write ?? false;
  const ce = ConnectError.from(e);
  const [d] = ce.findDetails(ErrorDetailSchema);
  if (d === undefined || d.code === PbErrorCode.UNSPECIFIED) return fromDetaillessCode(ce, write);
  return fromErrorDetail(d, ce.rawMessage);
}

/** The typed error an ErrorDetail describes. */
export function fromErrorDetail(d: ErrorDetail, message: string): DEngineError {
  const num = (v: bigint): number =>
    v > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(v);
  switch (d.code) {
    case PbErrorCode.NOT_LEADER:
      return new NotLeaderError(num(d.leaderId), d.leaderAddress, message);
    case PbErrorCode.RESOURCE_EXHAUSTED:
      return new ResourceExhaustedError(num(d.retryAfterMs), message);
    case PbErrorCode.LIMIT_EXCEEDED:
      return new LimitExceededError(d.limitName, num(d.limit), num(d.actual), message);
    case PbErrorCode.INVALID_ARGUMENT:
      return new InvalidArgumentError(message);
    case PbErrorCode.TIMEOUT:
      return new TimeoutError(message, d.outcomeUnknown);
    case PbErrorCode.KV:
      return new KvCommandError(d.kvError, message);
    case PbErrorCode.COMPACTED:
      return new CompactedError(message);
    case PbErrorCode.MEMBERSHIP:
      return new MembershipError(message);
    case PbErrorCode.UNAVAILABLE:
      return new UnavailableError(message, d.outcomeUnknown);
    case PbErrorCode.CONSISTENCY_OVERRIDE_FORBIDDEN:
      return new ConsistencyOverrideForbiddenError(message);
    default:
      return new InternalError(message, d.outcomeUnknown);
  }
}
