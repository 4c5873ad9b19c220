// The boundary between the state machine's plain objects (types.ts, JS numbers) and the protobuf
// messages of proto/dengine/v1/kv.proto (bigint for uint64 fields, as protobuf-es generates
// them). Every BigInt()/Number() conversion of the KV code is here. Hot paths (put and delete
// commands, KeyValue records) use the hand-written wire codec, which writes the same bytes.

import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import * as pb from "@d-engine/proto";
import { EMPTY, fromUtf8, utf8 } from "./bytes.js";
import { KvError } from "./errors.js";
import { writeKeyValue } from "./record-codec.js";
import type { SessionRecord, StateMeta } from "./tables.js";
import type {
  ClientSession,
  Compare,
  CompareResult,
  CompareTarget,
  DeleteRangeRequest,
  KeyValue,
  KvCommand,
  KvErrorCode,
  KvOperation,
  KvResponse,
  LeaseInfo,
  PutRequest,
  RangeRequest,
  RangeResponse,
  RequestOp,
  ResponseOp,
  SortOrder,
  SortTarget,
  TxnRequest,
  TxnResponse,
} from "./types.js";
import { KV_ERROR_CODES } from "./types.js";
import { WireReader, WireWriter, WT_VARINT } from "./wire.js";

/** A uint64 from the wire as a JS number; values past 2^53 - 1 are refused, not rounded. */
function num(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new KvError("invalid-argument", `${what} ${v} is above 2^53 - 1`);
  }
  return Number(v);
}

function big(n: number | undefined): bigint {
  return BigInt(n ?? 0);
}

// ---- enums ----

const SORT_ORDERS: readonly SortOrder[] = ["none", "ascend", "descend"];
const SORT_TARGETS: readonly SortTarget[] = ["key", "version", "create", "mod", "value"];
const COMPARE_RESULTS: readonly CompareResult[] = ["=", ">", "<", "!="];
const COMPARE_TARGETS: readonly CompareTarget[] = ["version", "create", "mod", "value", "lease"];
const ERROR_CODES: readonly (KvErrorCode | undefined)[] = [undefined, ...KV_ERROR_CODES];

function enumValue<T>(table: readonly T[], v: number, what: string): T {
  const out = table[v];
  if (out === undefined) throw new KvError("invalid-argument", `unknown ${what} ${v}`);
  return out;
}

function enumNumber<T>(table: readonly T[], v: T | undefined, fallback: T): number {
  return table.indexOf(v ?? fallback);
}

// ---- KeyValue ----

export function keyValueToProto(kv: KeyValue): pb.KeyValue {
  return create(pb.KeyValueSchema, {
    key: kv.key,
    createRevision: big(kv.createRevision),
    modRevision: big(kv.modRevision),
    version: big(kv.version),
    value: kv.value,
    lease: big(kv.lease),
  });
}

export function keyValueFromProto(kv: pb.KeyValue): KeyValue {
  return {
    key: kv.key,
    createRevision: num(kv.createRevision, "create revision"),
    modRevision: num(kv.modRevision, "mod revision"),
    version: num(kv.version, "version"),
    value: kv.value,
    lease: num(kv.lease, "lease"),
  };
}

function optionalKv(kv: pb.KeyValue | undefined): KeyValue | undefined {
  return kv === undefined ? undefined : keyValueFromProto(kv);
}

// ---- requests ----

function rangeToProto(r: RangeRequest): pb.RangeRequest {
  return create(pb.RangeRequestSchema, {
    key: r.key,
    rangeEnd: r.rangeEnd ?? EMPTY,
    limit: big(r.limit),
    revision: big(r.revision),
    sortOrder: enumNumber(SORT_ORDERS, r.sortOrder, "none"),
    sortTarget: enumNumber(SORT_TARGETS, r.sortTarget, "key"),
    keysOnly: r.keysOnly ?? false,
    countOnly: r.countOnly ?? false,
    minModRevision: big(r.minModRevision),
    maxModRevision: big(r.maxModRevision),
    minCreateRevision: big(r.minCreateRevision),
    maxCreateRevision: big(r.maxCreateRevision),
  });
}

function rangeFromProto(r: pb.RangeRequest): RangeRequest {
  return {
    key: r.key,
    rangeEnd: r.rangeEnd,
    limit: num(r.limit, "limit"),
    revision: num(r.revision, "revision"),
    sortOrder: enumValue(SORT_ORDERS, r.sortOrder, "sort order"),
    sortTarget: enumValue(SORT_TARGETS, r.sortTarget, "sort target"),
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: num(r.minModRevision, "min mod revision"),
    maxModRevision: num(r.maxModRevision, "max mod revision"),
    minCreateRevision: num(r.minCreateRevision, "min create revision"),
    maxCreateRevision: num(r.maxCreateRevision, "max create revision"),
  };
}

function putToProto(p: PutRequest): pb.PutRequest {
  return create(pb.PutRequestSchema, {
    key: p.key,
    value: p.value,
    lease: big(p.lease),
    prevKv: p.prevKv ?? false,
    ignoreValue: p.ignoreValue ?? false,
    ignoreLease: p.ignoreLease ?? false,
  });
}

function putFromProto(p: pb.PutRequest): PutRequest {
  return {
    key: p.key,
    value: p.value,
    lease: num(p.lease, "lease"),
    prevKv: p.prevKv,
    ignoreValue: p.ignoreValue,
    ignoreLease: p.ignoreLease,
  };
}

function deleteToProto(d: DeleteRangeRequest): pb.DeleteRangeRequest {
  return create(pb.DeleteRangeRequestSchema, {
    key: d.key,
    rangeEnd: d.rangeEnd ?? EMPTY,
    prevKv: d.prevKv ?? false,
  });
}

function deleteFromProto(d: pb.DeleteRangeRequest): DeleteRangeRequest {
  return { key: d.key, rangeEnd: d.rangeEnd, prevKv: d.prevKv };
}

function compareToProto(c: Compare): pb.Compare {
  return create(pb.CompareSchema, {
    result: enumNumber(COMPARE_RESULTS, c.result, "="),
    target: enumNumber(COMPARE_TARGETS, c.target, "version"),
    key: c.key,
    rangeEnd: c.rangeEnd ?? EMPTY,
    number: big(c.number),
    value: c.value ?? EMPTY,
  });
}

function compareFromProto(c: pb.Compare): Compare {
  const target = enumValue(COMPARE_TARGETS, c.target, "compare target");
  const base = {
    key: c.key,
    rangeEnd: c.rangeEnd,
    target,
    result: enumValue(COMPARE_RESULTS, c.result, "compare result"),
  };
  return target === "value"
    ? { ...base, value: c.value }
    : { ...base, number: num(c.number, "operand") };
}

function requestOpToProto(op: RequestOp): pb.RequestOp {
  switch (op.type) {
    case "range":
      return create(pb.RequestOpSchema, {
        request: { case: "requestRange", value: rangeToProto(op) },
      });
    case "put":
      return create(pb.RequestOpSchema, { request: { case: "requestPut", value: putToProto(op) } });
    case "delete-range":
      return create(pb.RequestOpSchema, {
        request: { case: "requestDeleteRange", value: deleteToProto(op) },
      });
    case "txn":
      return create(pb.RequestOpSchema, { request: { case: "requestTxn", value: txnToProto(op) } });
  }
}

function requestOpFromProto(op: pb.RequestOp): RequestOp {
  const r = op.request;
  switch (r.case) {
    case "requestRange":
      return { type: "range", ...rangeFromProto(r.value) };
    case "requestPut":
      return { type: "put", ...putFromProto(r.value) };
    case "requestDeleteRange":
      return { type: "delete-range", ...deleteFromProto(r.value) };
    case "requestTxn":
      return { type: "txn", ...txnFromProto(r.value) };
    default:
      throw new KvError("invalid-argument", "a transaction operation has no request");
  }
}

function txnToProto(t: TxnRequest): pb.TxnRequest {
  return create(pb.TxnRequestSchema, {
    compare: t.compare.map(compareToProto),
    success: t.success.map(requestOpToProto),
    failure: t.failure.map(requestOpToProto),
  });
}

function txnFromProto(t: pb.TxnRequest): TxnRequest {
  return {
    compare: t.compare.map(compareFromProto),
    success: t.success.map(requestOpFromProto),
    failure: t.failure.map(requestOpFromProto),
  };
}

function sessionToProto(s: ClientSession): pb.ClientSession {
  return create(pb.ClientSessionSchema, {
    clientId: s.clientId,
    sequence: big(s.sequence),
    firstIncomplete: big(s.firstIncomplete),
  });
}

function sessionFromProto(s: pb.ClientSession): ClientSession {
  return {
    clientId: s.clientId,
    sequence: num(s.sequence, "sequence"),
    firstIncomplete: num(s.firstIncomplete, "first incomplete sequence"),
  };
}

type PbOperation = pb.KvCommand["operation"];

function operationToProto(op: KvOperation): PbOperation {
  switch (op.type) {
    case "put":
      return { case: "put", value: putToProto(op) };
    case "delete-range":
      return { case: "deleteRange", value: deleteToProto(op) };
    case "txn":
      return { case: "txn", value: txnToProto(op) };
    case "compaction":
      return {
        case: "compaction",
        value: create(pb.CompactionRequestSchema, { revision: big(op.revision) }),
      };
    case "lease-grant":
      return {
        case: "leaseGrant",
        value: create(pb.LeaseGrantRequestSchema, { ttlSeconds: big(op.ttl), id: big(op.id) }),
      };
    case "lease-revoke":
      return {
        case: "leaseRevoke",
        value: create(pb.LeaseRevokeRequestSchema, { id: big(op.id) }),
      };
    case "lease-keep-alive":
      return {
        case: "leaseKeepAlive",
        value: create(pb.LeaseKeepAliveRequestSchema, { id: big(op.id) }),
      };
    case "lease-expire":
      return {
        case: "leaseExpire",
        value: create(pb.LeaseExpireRequestSchema, {
          ids: op.ids.map((id) => BigInt(id)),
          renewIndexes: (op.renewIndexes ?? []).map((i) => BigInt(i)),
        }),
      };
    case "lease-checkpoint":
      return {
        case: "leaseCheckpoint",
        value: create(pb.LeaseCheckpointRequestSchema, {
          checkpoints: op.checkpoints.map((c) =>
            create(pb.LeaseCheckpointSchema, {
              id: big(c.id),
              remainingMs: big(c.remainingMs),
              renewIndex: big(c.renewIndex),
            }),
          ),
        }),
      };
    case "put-with-ttl":
      return {
        case: "putWithTtl",
        value: create(pb.PutWithTtlRequestSchema, {
          key: op.key,
          value: op.value,
          ttlSeconds: big(op.ttl),
          prevKv: op.prevKv ?? false,
        }),
      };
    case "noop":
      return { case: undefined };
  }
}

function operationFromProto(op: PbOperation): KvOperation {
  switch (op.case) {
    case "put":
      return { type: "put", ...putFromProto(op.value) };
    case "deleteRange":
      return { type: "delete-range", ...deleteFromProto(op.value) };
    case "txn":
      return { type: "txn", ...txnFromProto(op.value) };
    case "compaction":
      return { type: "compaction", revision: num(op.value.revision, "revision") };
    case "leaseGrant":
      return {
        type: "lease-grant",
        ttl: num(op.value.ttlSeconds, "TTL"),
        id: num(op.value.id, "lease id"),
      };
    case "leaseRevoke":
      return { type: "lease-revoke", id: num(op.value.id, "lease id") };
    case "leaseKeepAlive":
      return { type: "lease-keep-alive", id: num(op.value.id, "lease id") };
    case "leaseExpire":
      return op.value.renewIndexes.length === 0
        ? { type: "lease-expire", ids: op.value.ids.map((id) => num(id, "lease id")) }
        : {
            type: "lease-expire",
            ids: op.value.ids.map((id) => num(id, "lease id")),
            renewIndexes: op.value.renewIndexes.map((i) => num(i, "renew index")),
          };
    case "leaseCheckpoint":
      return {
        type: "lease-checkpoint",
        checkpoints: op.value.checkpoints.map((c) => ({
          id: num(c.id, "lease id"),
          remainingMs: num(c.remainingMs, "remaining time"),
          renewIndex: num(c.renewIndex, "renew index"),
        })),
      };
    case "putWithTtl":
      return {
        type: "put-with-ttl",
        key: op.value.key,
        value: op.value.value,
        ttl: num(op.value.ttlSeconds, "TTL"),
        prevKv: op.value.prevKv,
      };
    case undefined:
      return { type: "noop" };
  }
}

export function kvCommandToProto(cmd: KvCommand): pb.KvCommand {
  return create(pb.KvCommandSchema, {
    timeMs: big(cmd.timeMs),
    session: cmd.session === undefined ? undefined : sessionToProto(cmd.session),
    operation: operationToProto(cmd.op),
  });
}

/**
 * Encodes a command. Puts, deletes and no-ops (every client write the leader proposes) take a
 * hand-written path that writes exactly protobuf-es's bytes (codec.test.ts compares them); the
 * rest, and any number the fast path would not write as protobuf-es does, go through protobuf-es.
 */
export function encodeKvCommand(cmd: KvCommand): Uint8Array {
  return encodeCommandFast(cmd) ?? encodeKvCommandWithProtobuf(cmd);
}

/** encodeKvCommand without the fast path (exported for the tests that compare the two). */
export function encodeKvCommandWithProtobuf(cmd: KvCommand): Uint8Array {
  return toBinary(pb.KvCommandSchema, kvCommandToProto(cmd));
}

/** Reused: each command is copied out of it (a proposal keeps its bytes). */
const commandWriter = new WireWriter(512);

/** The last client id encoded: a client sends many writes, and TextEncoder showed in profiles. */
let lastClientId = "";
let lastClientIdBytes = EMPTY;

function clientIdBytes(id: string): Uint8Array {
  if (id !== lastClientId) {
    lastClientIdBytes = utf8(id);
    lastClientId = id;
  }
  return lastClientIdBytes;
}

function isU64(n: number | undefined): boolean {
  return n === undefined || (Number.isSafeInteger(n) && n >= 0);
}

function boolField(w: WireWriter, field: number, b: boolean | undefined): void {
  if (!b) return;
  w.tag(field, WT_VARINT);
  w.varint(1);
}

function encodeCommandFast(cmd: KvCommand): Uint8Array | undefined {
  const op = cmd.op;
  const s = cmd.session;
  if (op.type !== "put" && op.type !== "delete-range" && op.type !== "noop") return undefined;
  if (!isU64(cmd.timeMs) || (op.type === "put" && !isU64(op.lease))) return undefined;
  if (s !== undefined && (!isU64(s.sequence) || !isU64(s.firstIncomplete))) return undefined;
  const w = commandWriter;
  w.pos = 0;
  w.uintField(1, cmd.timeMs ?? 0);
  if (s !== undefined) {
    w.nested(2, () => {
      w.bytesField(1, clientIdBytes(s.clientId));
      w.uintField(2, s.sequence);
      w.uintField(3, s.firstIncomplete ?? 0);
    });
  }
  if (op.type === "put") {
    w.nested(10, () => {
      w.bytesField(1, op.key);
      w.bytesField(2, op.value);
      w.uintField(3, op.lease ?? 0);
      boolField(w, 4, op.prevKv);
      boolField(w, 5, op.ignoreValue);
      boolField(w, 6, op.ignoreLease);
    });
  } else if (op.type === "delete-range") {
    w.nested(11, () => {
      w.bytesField(1, op.key);
      w.bytesField(2, op.rangeEnd ?? EMPTY);
      boolField(w, 3, op.prevKv);
    });
  }
  return w.buf.slice(0, w.pos);
}

/**
 * Decodes a command. Puts, deletes and no-ops (the bulk of a log) take a hand-written path;
 * anything else, or anything the fast path does not expect, goes through protobuf-es. With
 * `copy` false the fast path's keys and values are views into `bytes` (no allocation).
 */
export function decodeKvCommand(bytes: Uint8Array, copy = true): KvCommand {
  return decodeCommandFast(bytes, copy) ?? decodeKvCommandWithProtobuf(bytes);
}

/** decodeKvCommand without the fast path (exported for the tests that compare the two). */
export function decodeKvCommandWithProtobuf(bytes: Uint8Array): KvCommand {
  let msg: pb.KvCommand;
  try {
    msg = fromBinary(pb.KvCommandSchema, bytes);
  } catch (e) {
    throw new KvError("invalid-argument", `cannot decode the command: ${(e as Error).message}`);
  }
  return {
    op: operationFromProto(msg.operation),
    timeMs: num(msg.timeMs, "time"),
    session: msg.session === undefined ? undefined : sessionFromProto(msg.session),
  };
}

function decodeCommandFast(bytes: Uint8Array, copy: boolean): KvCommand | undefined {
  try {
    const r = new WireReader(bytes, 0, bytes.length, copy);
    let timeMs = 0;
    let session: ClientSession | undefined;
    let op: KvOperation = { type: "noop" };
    while (!r.done()) {
      const tag = r.tag();
      if (tag === 1 << 3) timeMs = r.varint();
      else if (tag === ((2 << 3) | 2)) {
        const [s, e] = r.span();
        session = readSession(new WireReader(bytes, s, e));
      } else if (tag === ((10 << 3) | 2)) {
        const [s, e] = r.span();
        op = readPut(new WireReader(bytes, s, e, copy));
      } else if (tag === ((11 << 3) | 2)) {
        const [s, e] = r.span();
        op = { type: "delete-range", ...readDelete(new WireReader(bytes, s, e, copy)) };
      } else return undefined;
    }
    return { op, timeMs, session };
  } catch {
    // Let protobuf-es produce the authoritative error for malformed input.
    return undefined;
  }
}

function readSession(r: WireReader): ClientSession {
  let clientId = "";
  let sequence = 0;
  let firstIncomplete = 0;
  while (!r.done()) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) clientId = fromUtf8(r.bytes());
    else if (tag === 2 << 3) sequence = r.varint();
    else if (tag === 3 << 3) firstIncomplete = r.varint();
    else r.skip(tag & 7);
  }
  return { clientId, sequence, firstIncomplete };
}

function readPut(r: WireReader): KvOperation {
  let key = EMPTY;
  let value = EMPTY;
  let lease = 0;
  let prevKv = false;
  let ignoreValue = false;
  let ignoreLease = false;
  while (!r.done()) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) key = r.bytes();
    else if (tag === ((2 << 3) | 2)) value = r.bytes();
    else if (tag === 3 << 3) lease = r.varint();
    else if (tag === 4 << 3) prevKv = r.varint() !== 0;
    else if (tag === 5 << 3) ignoreValue = r.varint() !== 0;
    else if (tag === 6 << 3) ignoreLease = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return { type: "put", key, value, lease, prevKv, ignoreValue, ignoreLease };
}

function readDelete(r: WireReader): DeleteRangeRequest {
  let key = EMPTY;
  let rangeEnd = EMPTY;
  let prevKv = false;
  while (!r.done()) {
    const tag = r.tag();
    if (tag === ((1 << 3) | 2)) key = r.bytes();
    else if (tag === ((2 << 3) | 2)) rangeEnd = r.bytes();
    else if (tag === 3 << 3) prevKv = r.varint() !== 0;
    else r.skip(tag & 7);
  }
  return { key, rangeEnd, prevKv };
}

// ---- responses ----

function rangeResponseToProto(r: RangeResponse): pb.RangeResponse {
  return create(pb.RangeResponseSchema, {
    revision: big(r.revision),
    kvs: r.kvs.map(keyValueToProto),
    more: r.more,
    count: big(r.count),
  });
}

function rangeResponseFromProto(r: pb.RangeResponse): RangeResponse {
  return {
    revision: num(r.revision, "revision"),
    kvs: r.kvs.map(keyValueFromProto),
    more: r.more,
    count: num(r.count, "count"),
  };
}

function responseOpToProto(op: ResponseOp): pb.ResponseOp {
  switch (op.type) {
    case "range":
      return create(pb.ResponseOpSchema, {
        response: { case: "responseRange", value: rangeResponseToProto(op) },
      });
    case "put":
      return create(pb.ResponseOpSchema, {
        response: {
          case: "responsePut",
          value: create(pb.PutResponseSchema, {
            revision: big(op.revision),
            prevKv: op.prevKv && keyValueToProto(op.prevKv),
          }),
        },
      });
    case "delete-range":
      return create(pb.ResponseOpSchema, {
        response: {
          case: "responseDeleteRange",
          value: create(pb.DeleteRangeResponseSchema, {
            revision: big(op.revision),
            deleted: big(op.deleted),
            prevKvs: op.prevKvs.map(keyValueToProto),
          }),
        },
      });
    case "txn":
      return create(pb.ResponseOpSchema, {
        response: { case: "responseTxn", value: txnResponseToProto(op) },
      });
  }
}

function responseOpFromProto(op: pb.ResponseOp): ResponseOp {
  const r = op.response;
  switch (r.case) {
    case "responseRange":
      return { type: "range", ...rangeResponseFromProto(r.value) };
    case "responsePut":
      return {
        type: "put",
        revision: num(r.value.revision, "revision"),
        prevKv: optionalKv(r.value.prevKv),
      };
    case "responseDeleteRange":
      return {
        type: "delete-range",
        revision: num(r.value.revision, "revision"),
        deleted: num(r.value.deleted, "deleted"),
        prevKvs: r.value.prevKvs.map(keyValueFromProto),
      };
    case "responseTxn":
      return { type: "txn", ...txnResponseFromProto(r.value) };
    default:
      throw new KvError("invalid-argument", "a transaction response has no content");
  }
}

function txnResponseToProto(t: TxnResponse): pb.TxnResponse {
  return create(pb.TxnResponseSchema, {
    revision: big(t.revision),
    succeeded: t.succeeded,
    responses: t.responses.map(responseOpToProto),
  });
}

function txnResponseFromProto(t: pb.TxnResponse): TxnResponse {
  return {
    revision: num(t.revision, "revision"),
    succeeded: t.succeeded,
    responses: t.responses.map(responseOpFromProto),
  };
}

export function kvResponseToProto(r: KvResponse): pb.KvResponse {
  const rev = big(r.revision);
  let result: pb.KvResponse["result"];
  switch (r.type) {
    case "error":
      result = {
        case: "error",
        value: create(pb.KvErrorSchema, {
          code: ERROR_CODES.indexOf(r.code),
          message: r.message,
          revision: rev,
        }),
      };
      break;
    case "put":
      result = {
        case: "put",
        value: create(pb.PutResponseSchema, {
          revision: rev,
          prevKv: r.prevKv && keyValueToProto(r.prevKv),
        }),
      };
      break;
    case "delete-range":
      result = {
        case: "deleteRange",
        value: create(pb.DeleteRangeResponseSchema, {
          revision: rev,
          deleted: big(r.deleted),
          prevKvs: r.prevKvs.map(keyValueToProto),
        }),
      };
      break;
    case "txn":
      result = { case: "txn", value: txnResponseToProto(r) };
      break;
    case "compaction":
      result = {
        case: "compaction",
        value: create(pb.CompactionResponseSchema, { revision: rev }),
      };
      break;
    case "lease-grant":
      result = {
        case: "leaseGrant",
        value: create(pb.LeaseGrantResponseSchema, {
          revision: rev,
          id: big(r.id),
          ttlSeconds: big(r.ttl),
        }),
      };
      break;
    case "lease-revoke":
      result = {
        case: "leaseRevoke",
        value: create(pb.LeaseRevokeResponseSchema, { revision: rev }),
      };
      break;
    case "lease-keep-alive":
      result = {
        case: "leaseKeepAlive",
        value: create(pb.LeaseKeepAliveResponseSchema, {
          revision: rev,
          id: big(r.id),
          ttlSeconds: big(r.ttl),
        }),
      };
      break;
    case "lease-expire":
      result = {
        case: "leaseExpire",
        value: create(pb.LeaseExpireResponseSchema, {
          revision: rev,
          expiredIds: r.expired.map((id) => BigInt(id)),
        }),
      };
      break;
    case "put-with-ttl":
      result = {
        case: "putWithTtl",
        value: create(pb.PutWithTtlResponseSchema, {
          revision: rev,
          lease: big(r.lease),
          prevKv: r.prevKv && keyValueToProto(r.prevKv),
        }),
      };
      break;
    case "lease-checkpoint":
      result = {
        case: "leaseCheckpoint",
        value: create(pb.LeaseCheckpointResponseSchema, { revision: rev }),
      };
      break;
    case "noop":
      result = { case: "noop", value: create(pb.NoopResponseSchema, { revision: rev }) };
      break;
  }
  return create(pb.KvResponseSchema, { result });
}

export function kvResponseFromProto(msg: pb.KvResponse): KvResponse {
  const r = msg.result;
  switch (r.case) {
    case "error":
      return {
        type: "error",
        revision: num(r.value.revision, "revision"),
        code: enumValue(ERROR_CODES, r.value.code, "error code") as KvErrorCode,
        message: r.value.message,
      };
    case "put":
      return {
        type: "put",
        revision: num(r.value.revision, "revision"),
        prevKv: optionalKv(r.value.prevKv),
      };
    case "deleteRange":
      return {
        type: "delete-range",
        revision: num(r.value.revision, "revision"),
        deleted: num(r.value.deleted, "deleted"),
        prevKvs: r.value.prevKvs.map(keyValueFromProto),
      };
    case "txn":
      return { type: "txn", ...txnResponseFromProto(r.value) };
    case "compaction":
      return { type: "compaction", revision: num(r.value.revision, "revision") };
    case "leaseGrant":
      return {
        type: "lease-grant",
        revision: num(r.value.revision, "revision"),
        id: num(r.value.id, "lease id"),
        ttl: num(r.value.ttlSeconds, "TTL"),
      };
    case "leaseRevoke":
      return { type: "lease-revoke", revision: num(r.value.revision, "revision") };
    case "leaseKeepAlive":
      return {
        type: "lease-keep-alive",
        revision: num(r.value.revision, "revision"),
        id: num(r.value.id, "lease id"),
        ttl: num(r.value.ttlSeconds, "TTL"),
      };
    case "leaseExpire":
      return {
        type: "lease-expire",
        revision: num(r.value.revision, "revision"),
        expired: r.value.expiredIds.map((id) => num(id, "lease id")),
      };
    case "putWithTtl":
      return {
        type: "put-with-ttl",
        revision: num(r.value.revision, "revision"),
        lease: num(r.value.lease, "lease"),
        prevKv: optionalKv(r.value.prevKv),
      };
    case "leaseCheckpoint":
      return { type: "lease-checkpoint", revision: num(r.value.revision, "revision") };
    case "noop":
      return { type: "noop", revision: num(r.value.revision, "revision") };
    default:
      throw new KvError("invalid-argument", "a KvResponse has no result");
  }
}

export function encodeKvResponse(r: KvResponse): Uint8Array {
  return toBinary(pb.KvResponseSchema, kvResponseToProto(r));
}

export function decodeKvResponse(bytes: Uint8Array): KvResponse {
  return kvResponseFromProto(fromBinary(pb.KvResponseSchema, bytes));
}

// ---- stored records: leases, sessions, meta ----

export function leaseToProto(l: LeaseInfo): pb.KvLease {
  return create(pb.KvLeaseSchema, {
    id: big(l.id),
    ttlSeconds: big(l.ttl),
    expiryMs: big(l.expiryMs),
    remainingMs: big(l.remainingMs),
    renewIndex: big(l.renewIndex),
  });
}

export function leaseFromProto(l: pb.KvLease): LeaseInfo {
  const ttl = num(l.ttlSeconds, "TTL");
  return {
    id: num(l.id, "lease id"),
    ttl,
    expiryMs: num(l.expiryMs, "expiry"),
    // Records from before checkpoints: the whole TTL is left (never early; at most one TTL late).
    remainingMs: l.remainingMs === undefined ? ttl * 1000 : num(l.remainingMs, "remaining time"),
    renewIndex: num(l.renewIndex, "renew index"),
  };
}

export function encodeLease(l: LeaseInfo): Uint8Array {
  return toBinary(pb.KvLeaseSchema, leaseToProto(l));
}

export function decodeLease(bytes: Uint8Array): LeaseInfo {
  return leaseFromProto(fromBinary(pb.KvLeaseSchema, bytes));
}

export function sessionRecordToProto(s: SessionRecord): pb.KvSession {
  return create(pb.KvSessionSchema, {
    clientId: s.clientId,
    floor: big(s.floor),
    lastSeenMs: big(s.lastSeenMs),
    answers: s.answers.map((a) =>
      create(pb.KvSessionAnswerSchema, {
        sequence: big(a.sequence),
        response: kvResponseToProto(a.response),
      }),
    ),
  });
}

export function sessionRecordFromProto(s: pb.KvSession): SessionRecord {
  return {
    clientId: s.clientId,
    floor: num(s.floor, "floor"),
    lastSeenMs: num(s.lastSeenMs, "last seen"),
    answers: s.answers.map((a) => {
      if (a.response === undefined) throw new KvError("corrupt-state", "session answer is empty");
      return { sequence: num(a.sequence, "sequence"), response: kvResponseFromProto(a.response) };
    }),
  };
}

export function encodeSessionRecord(s: SessionRecord): Uint8Array {
  return encodeSessionFast(s) ?? encodeSessionRecordWithProtobuf(s);
}

/** encodeSessionRecord without the fast path (exported for the tests that compare the two). */
export function encodeSessionRecordWithProtobuf(s: SessionRecord): Uint8Array {
  return toBinary(pb.KvSessionSchema, sessionRecordToProto(s));
}

/** Reused: each record is copied out of it (finish). */
const sessionWriter = new WireWriter(256);

/**
 * A session record whose answers are all to puts and deletes (what clients' sessions hold nearly
 * always), written by hand: byte for byte what protobuf-es writes (codec.test.ts compares them
 * over seeded records), without building the protobuf-es messages first. Every applied write of
 * a client with a session rewrites its record, and protobuf-es was a visible share of an apply in
 * the single-client write profile. Anything else, or a number protobuf-es would refuse, goes to
 * protobuf-es.
 */
function encodeSessionFast(s: SessionRecord): Uint8Array | undefined {
  if (!isU64(s.floor) || !isU64(s.lastSeenMs)) return undefined;
  for (const a of s.answers) {
    const r = a.response;
    if (!isU64(a.sequence) || !isU64(r.revision)) return undefined;
    if (r.type === "delete-range") {
      if (!isU64(r.deleted)) return undefined;
    } else if (r.type !== "put") {
      return undefined;
    }
  }
  const w = sessionWriter;
  w.pos = 0;
  w.bytesField(1, clientIdBytes(s.clientId));
  w.uintField(2, s.floor);
  w.uintField(3, s.lastSeenMs);
  for (const a of s.answers) {
    w.nested(4, () => {
      w.uintField(1, a.sequence);
      w.nested(2, () => writeWriteResponse(w, a.response));
    });
  }
  return w.finish();
}

/** KvResponse.put (field 2) or .delete_range (field 3); encodeSessionFast checked the type. */
function writeWriteResponse(w: WireWriter, r: KvResponse): void {
  if (r.type === "put") {
    w.nested(2, () => {
      w.uintField(1, r.revision);
      const prev = r.prevKv;
      if (prev !== undefined) w.nested(2, () => writeKeyValue(w, prev));
    });
  } else if (r.type === "delete-range") {
    w.nested(3, () => {
      w.uintField(1, r.revision);
      w.uintField(2, r.deleted);
      for (const kv of r.prevKvs) w.nested(3, () => writeKeyValue(w, kv));
    });
  }
}

export function decodeSessionRecord(bytes: Uint8Array): SessionRecord {
  return sessionRecordFromProto(fromBinary(pb.KvSessionSchema, bytes));
}

/** The storage format version of LMDB records and snapshot streams. */
export const KV_FORMAT_VERSION = 1;

export function metaToProto(m: StateMeta): pb.KvStateMeta {
  return create(pb.KvStateMetaSchema, {
    formatVersion: KV_FORMAT_VERSION,
    appliedIndex: big(m.appliedIndex),
    revision: big(m.revision),
    compactRevision: big(m.compactRevision),
    logTimeMs: big(m.logTimeMs),
  });
}

/** Reads a meta record, refusing formats this code does not know. */
export function metaFromProto(m: pb.KvStateMeta, where: string): StateMeta {
  if (m.formatVersion !== KV_FORMAT_VERSION) {
    throw new KvError(
      "corrupt-state",
      `${where}: unsupported KV format version ${m.formatVersion} (this build reads version ${KV_FORMAT_VERSION})`,
    );
  }
  return {
    appliedIndex: num(m.appliedIndex, "applied index"),
    revision: num(m.revision, "revision"),
    compactRevision: num(m.compactRevision, "compact revision"),
    logTimeMs: num(m.logTimeMs, "log time"),
  };
}

/** Reused: each meta record is copied out of it (finish). */
const metaWriter = new WireWriter(64);

/**
 * The state machine's meta record, written by hand: every applied batch rewrites it (on the
 * leader, on each write's path), and protobuf-es's toBinary goes through bigint for its four
 * uint64 fields. The bytes are protobuf-es's (codec.test.ts compares them); a number protobuf-es
 * would refuse goes to protobuf-es, which throws.
 */
export function encodeMeta(m: StateMeta): Uint8Array {
  const safe =
    isU64(m.appliedIndex) && isU64(m.revision) && isU64(m.compactRevision) && isU64(m.logTimeMs);
  if (!safe) return encodeMetaWithProtobuf(m);
  const w = metaWriter;
  w.pos = 0;
  w.uintField(1, KV_FORMAT_VERSION);
  w.uintField(2, m.appliedIndex);
  w.uintField(3, m.revision);
  w.uintField(4, m.compactRevision);
  w.uintField(5, m.logTimeMs);
  return w.finish();
}

/** encodeMeta without the fast path (exported for the tests that compare the two). */
export function encodeMetaWithProtobuf(m: StateMeta): Uint8Array {
  return toBinary(pb.KvStateMetaSchema, metaToProto(m));
}

export function decodeMeta(bytes: Uint8Array, where: string): StateMeta {
  return metaFromProto(fromBinary(pb.KvStateMetaSchema, bytes), where);
}

// ---- snapshot control frames ----

export interface SnapshotCounts {
  readonly live: number;
  readonly history: number;
  readonly leases: number;
  readonly sessions: number;
}

export function encodeHeaderFrame(meta: StateMeta): Uint8Array {
  return toBinary(
    pb.KvSnapshotFrameSchema,
    create(pb.KvSnapshotFrameSchema, { frame: { case: "header", value: metaToProto(meta) } }),
  );
}

export function encodeFooterFrame(c: SnapshotCounts): Uint8Array {
  return toBinary(
    pb.KvSnapshotFrameSchema,
    create(pb.KvSnapshotFrameSchema, {
      frame: {
        case: "footer",
        value: create(pb.KvSnapshotFooterSchema, {
          liveCount: big(c.live),
          historyCount: big(c.history),
          leaseCount: big(c.leases),
          sessionCount: big(c.sessions),
        }),
      },
    }),
  );
}

/** A header or footer frame (records frames are read by snapshot-codec.ts's fast path). */
export function decodeControlFrame(
  payload: Uint8Array,
  where: string,
): { header?: StateMeta; footer?: SnapshotCounts } {
  const f = fromBinary(pb.KvSnapshotFrameSchema, payload).frame;
  switch (f.case) {
    case "header":
      return { header: metaFromProto(f.value, where) };
    case "footer":
      return {
        footer: {
          live: num(f.value.liveCount, "live count"),
          history: num(f.value.historyCount, "history count"),
          leases: num(f.value.leaseCount, "lease count"),
          sessions: num(f.value.sessionCount, "session count"),
        },
      };
    default:
      throw new KvError("corrupt-snapshot", `${where}: unexpected frame kind ${f.case}`);
  }
}
