// The Node client's side of the Pipeline messages written and read by hand for the calls that
// fill them under load, put and get (the server's side: @d-engine/transport's
// pipeline-decoding.ts and pipeline-encoding.ts). protobuf-es walks each message's descriptor by
// reflection; in the benchmark's client process that, and the garbage it leaves, was a large part
// of a call's CPU (docs/benchmarks.md, session 14). Every other call or result, and any number
// at or past 2^53, goes through protobuf-es as before. The bytes written are protobuf-es's own,
// byte for byte, and what is read is what fromBinary returns, field for field
// (pipeline-codec.test.ts compares both over seeded random messages).
//
// The messages (proto/dengine/api/v1/kv.proto, common.proto, proto/dengine/v1/kv.proto), fields
// in number order, zero values left out as proto3 does, a set oneof or message field always
// written:
//   PipelineRequest  { repeated PipelineCall calls = 1; repeated uint64 cancel = 2 (packed); }
//   PipelineCall     { uint64 id = 1; uint64 timeout_ms = 2; oneof { PutRequest put = 3;
//                      GetRequest get = 4; ... } }
//   PutRequest       { bytes key = 1; bytes value = 2; uint64 lease = 3; uint64 ttl_seconds = 4;
//                      bool prev_kv = 5; WriteSession session = 6; }
//   WriteSession     { string client_id = 1; uint64 sequence = 2; uint64 first_incomplete = 3; }
//   GetRequest       { bytes key = 1; uint64 revision = 2; ReadConsistency consistency = 3; }
//   PipelineResponse { repeated PipelineResult results = 1; }
//   PipelineResult   { uint64 id = 1; oneof { PipelineError error = 2; PutResponse put = 3;
//                      GetResponse get = 4; ... } }
//   PutResponse      { uint64 revision = 1; KeyValue prev_kv = 2; uint64 lease = 3; }
//   GetResponse      { uint64 revision = 1; KeyValue kv = 2; }
//   KeyValue         { bytes key = 1; uint64 create_revision = 2; uint64 mod_revision = 3;
//                      uint64 version = 4; bytes value = 5; uint64 lease = 6; }
import { toBinary } from "@bufbuild/protobuf";
import type { KeyValue } from "@d-engine/proto";
import {
  type GetRequest,
  type GetResponse,
  type PipelineCall,
  PipelineCallSchema,
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  type PipelineResult,
  type PutRequest,
  type PutResponse,
} from "@d-engine/proto/api";
import {
  bytesSize,
  Fields,
  handBack,
  messageSize,
  more,
  NOT_HANDLED,
  nested,
  ProtoReader,
  ProtoWriter,
  readU64,
  safeU64,
  u64Size,
  varintSize,
  WIRE_LEN,
  WIRE_VARINT,
} from "./proto-cursor.js";

const utf8 = new TextEncoder();

// ---- Writing requests ----

/** A put or get call with its sizes measured once. */
interface HandCall {
  readonly call: PipelineCall;
  /** The whole PipelineCall. */
  readonly size: number;
  /** The PutRequest or GetRequest inside it. */
  readonly body: number;
  /** The WriteSession inside a put, or -1 when there is none. */
  readonly session: number;
  /** The session's client id as UTF-8 (undefined when empty: left out). */
  readonly clientId: Uint8Array | undefined;
}

/** Any other call, as protobuf-es writes it. */
interface BytesCall {
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** The PipelineRequest `m` as protobuf bytes (toBinary's, byte for byte). */
export function encodePipelineRequest(m: PipelineRequest): Uint8Array {
  for (const id of m.cancel) if (!safeU64(id)) return toBinary(PipelineRequestSchema, m);
  const parts: (HandCall | BytesCall)[] = new Array(m.calls.length);
  let total = 0;
  for (let i = 0; i < m.calls.length; i++) {
    const call = m.calls[i] as PipelineCall;
    let part: HandCall | BytesCall | undefined = measureCall(call);
    if (part === undefined) {
      const bytes = toBinary(PipelineCallSchema, call);
      part = { size: bytes.length, bytes };
    }
    parts[i] = part;
    total += messageSize(part.size);
  }
  let cancelBytes = 0;
  for (const id of m.cancel) cancelBytes += varintSize(Number(id));
  if (m.cancel.length > 0) total += messageSize(cancelBytes);

  const w = new ProtoWriter(total);
  for (const p of parts) {
    w.message(1, p.size);
    if ("bytes" in p) w.raw(p.bytes);
    else writeCall(w, p);
  }
  if (m.cancel.length > 0) {
    w.message(2, cancelBytes);
    for (const id of m.cancel) w.varint(Number(id));
  }
  return w.buf;
}

function measureCall(call: PipelineCall): HandCall | undefined {
  if (!safeU64(call.id) || !safeU64(call.timeoutMs)) return undefined;
  const r = call.request;
  let body: number;
  let session = -1;
  let clientId: Uint8Array | undefined;
  if (r.case === "put") {
    const p = r.value;
    if (!safeU64(p.lease) || !safeU64(p.ttlSeconds)) return undefined;
    body =
      bytesSize(p.key) +
      bytesSize(p.value) +
      u64Size(p.lease) +
      u64Size(p.ttlSeconds) +
      (p.prevKv ? 2 : 0);
    if (p.session) {
      const s = p.session;
      if (!safeU64(s.sequence) || !safeU64(s.firstIncomplete)) return undefined;
      clientId = s.clientId === "" ? undefined : utf8.encode(s.clientId);
      session =
        (clientId ? bytesSize(clientId) : 0) + u64Size(s.sequence) + u64Size(s.firstIncomplete);
      body += messageSize(session);
    }
  } else if (r.case === "get") {
    const g = r.value;
    // An enum is an int32; a negative one is ten bytes on the wire: protobuf-es's.
    if (!safeU64(g.revision) || g.consistency < 0 || !Number.isInteger(g.consistency)) {
      return undefined;
    }
    body =
      bytesSize(g.key) +
      u64Size(g.revision) +
      (g.consistency === 0 ? 0 : 1 + varintSize(g.consistency));
  } else {
    return undefined;
  }
  const size = u64Size(call.id) + u64Size(call.timeoutMs) + messageSize(body);
  return { call, size, body, session, clientId };
}

function writeCall(w: ProtoWriter, p: HandCall): void {
  const { call } = p;
  w.u64(1, call.id);
  w.u64(2, call.timeoutMs);
  const r = call.request;
  if (r.case === "put") {
    const put: PutRequest = r.value;
    w.message(3, p.body);
    w.bytes(1, put.key);
    w.bytes(2, put.value);
    w.u64(3, put.lease);
    w.u64(4, put.ttlSeconds);
    w.bool(5, put.prevKv);
    const s = put.session;
    if (s) {
      w.message(6, p.session);
      if (p.clientId) w.bytes(1, p.clientId);
      w.u64(2, s.sequence);
      w.u64(3, s.firstIncomplete);
    }
  } else if (r.case === "get") {
    const get: GetRequest = r.value;
    w.message(4, p.body);
    w.bytes(1, get.key);
    w.u64(2, get.revision);
    if (get.consistency !== 0) {
      w.tag(3, WIRE_VARINT);
      w.varint(get.consistency);
    }
  }
}

// ---- Reading responses ----

/**
 * The PipelineResponse in `bytes`, or undefined when it carries anything but put and get results
 * in the fields above (then fromBinary must read it).
 */
export function decodePipelineResponseFast(bytes: Uint8Array): PipelineResponse | undefined {
  try {
    const r = new ProtoReader(bytes);
    const results: PipelineResult[] = [];
    while (more(r)) {
      if (r.varint("field") !== ((1 << 3) | WIRE_LEN)) throw NOT_HANDLED;
      results.push(readResult(nested(r)));
    }
    return { $typeName: "dengine.api.v1.PipelineResponse", results };
  } catch (e) {
    if (handBack(e)) return undefined;
    throw e;
  }
}

function readResult(r: ProtoReader): PipelineResult {
  let id = 0n;
  let result: PipelineResult["result"] = { case: undefined };
  const f = new Fields(r, 4);
  while (f.next()) {
    const tag = f.tag;
    // Errors (field 2) and the other kinds go to fromBinary. A second oneof member replaces the
    // first in protobuf, as the last assignment does here.
    if (tag === ((1 << 3) | WIRE_VARINT)) id = readU64(r);
    else if (tag === ((3 << 3) | WIRE_LEN))
      result = { case: "put", value: readPutResponse(nested(r)) };
    else if (tag === ((4 << 3) | WIRE_LEN))
      result = { case: "get", value: readGetResponse(nested(r)) };
    else throw NOT_HANDLED;
  }
  return { $typeName: "dengine.api.v1.PipelineResult", id, result };
}

function readPutResponse(r: ProtoReader): PutResponse {
  const put: PutResponse = { $typeName: "dengine.api.v1.PutResponse", revision: 0n, lease: 0n };
  const f = new Fields(r, 3);
  while (f.next()) {
    const tag = f.tag;
    if (tag === ((1 << 3) | WIRE_VARINT)) put.revision = readU64(r);
    else if (tag === ((2 << 3) | WIRE_LEN)) put.prevKv = readKeyValue(nested(r));
    else if (tag === ((3 << 3) | WIRE_VARINT)) put.lease = readU64(r);
    else throw NOT_HANDLED;
  }
  return put;
}

function readGetResponse(r: ProtoReader): GetResponse {
  const get: GetResponse = { $typeName: "dengine.api.v1.GetResponse", revision: 0n };
  const f = new Fields(r, 2);
  while (f.next()) {
    const tag = f.tag;
    if (tag === ((1 << 3) | WIRE_VARINT)) get.revision = readU64(r);
    else if (tag === ((2 << 3) | WIRE_LEN)) get.kv = readKeyValue(nested(r));
    else throw NOT_HANDLED;
  }
  return get;
}

function readKeyValue(r: ProtoReader): KeyValue {
  const kv: KeyValue = {
    $typeName: "dengine.v1.KeyValue",
    key: new Uint8Array(0),
    createRevision: 0n,
    modRevision: 0n,
    version: 0n,
    value: new Uint8Array(0),
    lease: 0n,
  };
  const f = new Fields(r, 6);
  while (f.next()) {
    const tag = f.tag;
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        kv.key = r.bytes("bytes");
        break;
      case (2 << 3) | WIRE_VARINT:
        kv.createRevision = readU64(r);
        break;
      case (3 << 3) | WIRE_VARINT:
        kv.modRevision = readU64(r);
        break;
      case (4 << 3) | WIRE_VARINT:
        kv.version = readU64(r);
        break;
      case (5 << 3) | WIRE_LEN:
        kv.value = r.bytes("bytes");
        break;
      case (6 << 3) | WIRE_VARINT:
        kv.lease = readU64(r);
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  return kv;
}
