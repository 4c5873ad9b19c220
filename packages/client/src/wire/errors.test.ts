// Typed errors survive the trip through a ConnectError (as a server sends it, through the
// gRPC/Connect error encoding) and come back as the same class with the same fields; failures
// without a detail are the transport's.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ErrorCode, ErrorDetailSchema } from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import {
  CompactedError,
  ConsistencyOverrideForbiddenError,
  type DEngineError,
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
import { fromConnectError, toConnectError } from "./errors.js";

/** What a client sees: the error re-created from its wire form (code, message, binary details). */
function overTheWire(ce: ConnectError): ConnectError {
  const details = ce.details.map((d) =>
    "desc" in d ? { type: d.desc.typeName, value: toBinary(d.desc, d.value as never) } : d,
  );
  // The constructor takes outgoing details; a received error holds {type, value} ones.
  return new ConnectError(ce.rawMessage, ce.code, undefined, details as never);
}

describe("toConnectError / fromConnectError", () => {
  const cases: [DEngineError, Code, Record<string, unknown>][] = [
    [
      new NotLeaderError(3, "10.0.0.3:2379"),
      Code.FailedPrecondition,
      { leaderId: 3, leaderAddress: "10.0.0.3:2379" },
    ],
    [new NotLeaderError(0, ""), Code.FailedPrecondition, { leaderId: 0, leaderAddress: "" }],
    [new ResourceExhaustedError(250, "busy"), Code.ResourceExhausted, { retryAfterMs: 250 }],
    [
      new LimitExceededError("maxValueBytes", 100, 101),
      Code.InvalidArgument,
      { limitName: "maxValueBytes", limit: 100, actual: 101 },
    ],
    [new InvalidArgumentError("key is required"), Code.InvalidArgument, {}],
    [new TimeoutError("slow", true), Code.DeadlineExceeded, { outcomeUnknown: true }],
    [
      new KvCommandError("lease-not-found", "lease 7 not found"),
      Code.FailedPrecondition,
      { kvCode: "lease-not-found" },
    ],
    [new CompactedError("revision 2 is compacted"), Code.OutOfRange, {}],
    [new MembershipError("in progress"), Code.FailedPrecondition, {}],
    [new UnavailableError("shutting down", false), Code.Unavailable, { outcomeUnknown: false }],
    [new ConsistencyOverrideForbiddenError("no"), Code.FailedPrecondition, {}],
    [new InternalError("disk", true), Code.Internal, { outcomeUnknown: true }],
  ];
  for (const [err, code, fields] of cases) {
    it(`${err.name} (${err.code})`, () => {
      const ce = toConnectError(err);
      expect(ce.code).toBe(code);
      const back = fromConnectError(overTheWire(ce));
      expect(back).toBeInstanceOf(err.constructor);
      expect(back.message).toBe(err.message);
      expect(back.outcomeUnknown).toBe(err.outcomeUnknown);
      expect(back).toMatchObject(fields);
    });
  }

  it("turns unknown errors into internal ones, outcome unknown", () => {
    const ce = toConnectError(new TypeError("x is undefined"));
    expect(ce.code).toBe(Code.Internal);
    const back = fromConnectError(overTheWire(ce));
    expect(back).toBeInstanceOf(InternalError);
    expect(back.outcomeUnknown).toBe(true);
    expect(back.message).toContain("x is undefined");
  });

  it("reads transport failures without a detail", () => {
    const reset = new ConnectError("connection reset", Code.Aborted);
    expect(fromConnectError(reset, { write: true })).toMatchObject({
      code: "unavailable",
      outcomeUnknown: true,
    });
    expect(fromConnectError(reset)).toMatchObject({ code: "unavailable", outcomeUnknown: false });
    const refused = new ConnectError("connect ECONNREFUSED", Code.Unavailable);
    refused.cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), {
      code: "ECONNREFUSED",
    });
    // Nothing reached a server: the write did not happen.
    expect(fromConnectError(refused, { write: true })).toMatchObject({
      code: "unavailable",
      outcomeUnknown: false,
    });
    expect(
      fromConnectError(new ConnectError("late", Code.DeadlineExceeded), { write: true }),
    ).toBeInstanceOf(TimeoutError);
    expect(fromConnectError(new ConnectError("nope", Code.Unimplemented))).toMatchObject({
      code: "internal",
      outcomeUnknown: false,
    });
    expect(fromConnectError(new Error("socket hang up"), { write: true })).toMatchObject({
      outcomeUnknown: true,
    });
  });

  it("adds a detail to a framework ConnectError, keeping its code", () => {
    const ce = toConnectError(new ConnectError("message too large", Code.ResourceExhausted));
    expect(ce.code).toBe(Code.ResourceExhausted);
    expect(ce.findDetails(ErrorDetailSchema)[0]?.code).toBe(ErrorCode.RESOURCE_EXHAUSTED);
    const withDetail = new ConnectError("x", Code.Internal, undefined, [
      {
        desc: ErrorDetailSchema,
        value: create(ErrorDetailSchema, { code: ErrorCode.NOT_LEADER, leaderId: 2n }),
      },
    ]);
    expect(toConnectError(withDetail)).toBe(withDetail);
  });
});
