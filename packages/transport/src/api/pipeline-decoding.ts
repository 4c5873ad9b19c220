// A Pipeline request message read by hand when it carries only the calls that fill it under load,
// put and get: protobuf-es's fromBinary builds each message by reflection over its descriptor,
// and in a serving leader that was about a quarter of the CPU between a put's arrival and its
// proposal (docs/benchmarks.md, session 14). Anything else (another call kind, an unknown field,
// a field given twice, a number beyond 2^53, groups) makes decodePipelineRequestFast return
// undefined, and the caller reads the message with fromBinary as before. What it returns is
// what fromBinary returns for the same bytes, field for field (pipeline-decoding.test.ts compares
// them over seeded random messages, including every way out above).
//
// The messages (proto/dengine/api/v1/kv.proto, common.proto):
//   PipelineRequest { repeated PipelineCall calls = 1; repeated uint64 cancel = 2; }
//   PipelineCall    { uint64 id = 1; uint64 timeout_ms = 2; oneof request { PutRequest put = 3;
//                     GetRequest get = 4; ...others 5-9 } }
//   PutRequest      { bytes key = 1; bytes value = 2; uint64 lease = 3; uint64 ttl_seconds = 4;
//                     bool prev_kv = 5; WriteSession session = 6; }
//   GetRequest      { bytes key = 1; uint64 revision = 2; ReadConsistency consistency = 3; }
//   WriteSession    { string client_id = 1; uint64 sequence = 2; uint64 first_incomplete = 3; }
import {
  Fields,
  handBack,
  more,
  NOT_HANDLED,
  nested,
  ProtoReader,
  readString,
  readU64,
  WIRE_LEN,
  WIRE_VARINT,
} from "@d-engine/client/wire";
import type {
  GetRequest,
  PipelineCall,
  PipelineRequest,
  PutRequest,
  WriteSession,
} from "@d-engine/proto/api";

/**
 * The PipelineRequest in `bytes`, or undefined when it carries anything but put and get calls in
 * the fields above (then fromBinary must read it).
 */
export function decodePipelineRequestFast(bytes: Uint8Array): PipelineRequest | undefined {
  try {
    return readRequest(new ProtoReader(bytes));
  } catch (e) {
    if (handBack(e)) return undefined;
    throw e;
  }
}

function readRequest(r: ProtoReader): PipelineRequest {
  const calls: PipelineCall[] = [];
  const cancel: bigint[] = [];
  while (more(r)) {
    const tag = r.varint("field");
    if (tag === ((1 << 3) | WIRE_LEN)) {
      calls.push(readCall(nested(r)));
    } else if (tag === ((2 << 3) | WIRE_LEN)) {
      // Packed (proto3's default).
      const p = nested(r);
      while (more(p)) cancel.push(readU64(p));
    } else if (tag === ((2 << 3) | WIRE_VARINT)) {
      cancel.push(readU64(r));
    } else {
      throw NOT_HANDLED;
    }
  }
  return { $typeName: "dengine.api.v1.PipelineRequest", calls, cancel };
}

function readCall(r: ProtoReader): PipelineCall {
  let id = 0n;
  let timeoutMs = 0n;
  let request: PipelineCall["request"] = { case: undefined };
  const f = new Fields(r, 4);
  while (f.next()) {
    const tag = f.tag;
    // A second oneof member replaces the first in protobuf, as the last assignment does here.
    if (tag === ((1 << 3) | WIRE_VARINT)) id = readU64(r);
    else if (tag === ((2 << 3) | WIRE_VARINT)) timeoutMs = readU64(r);
    else if (tag === ((3 << 3) | WIRE_LEN)) request = { case: "put", value: readPut(nested(r)) };
    else if (tag === ((4 << 3) | WIRE_LEN)) request = { case: "get", value: readGet(nested(r)) };
    else throw NOT_HANDLED;
  }
  return { $typeName: "dengine.api.v1.PipelineCall", id, timeoutMs, request };
}

function readPut(r: ProtoReader): PutRequest {
  const put: PutRequest = {
    $typeName: "dengine.api.v1.PutRequest",
    key: new Uint8Array(0),
    value: new Uint8Array(0),
    lease: 0n,
    ttlSeconds: 0n,
    prevKv: false,
  };
  const f = new Fields(r, 6);
  while (f.next()) {
    const tag = f.tag;
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        put.key = r.bytes("bytes");
        break;
      case (2 << 3) | WIRE_LEN:
        put.value = r.bytes("bytes");
        break;
      case (3 << 3) | WIRE_VARINT:
        put.lease = readU64(r);
        break;
      case (4 << 3) | WIRE_VARINT:
        put.ttlSeconds = readU64(r);
        break;
      case (5 << 3) | WIRE_VARINT:
        put.prevKv = r.varint("field") !== 0;
        break;
      case (6 << 3) | WIRE_LEN:
        put.session = readSession(nested(r));
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  return put;
}

function readGet(r: ProtoReader): GetRequest {
  const get: GetRequest = {
    $typeName: "dengine.api.v1.GetRequest",
    key: new Uint8Array(0),
    revision: 0n,
    consistency: 0,
  };
  const f = new Fields(r, 3);
  while (f.next()) {
    const tag = f.tag;
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        get.key = r.bytes("bytes");
        break;
      case (2 << 3) | WIRE_VARINT:
        get.revision = readU64(r);
        break;
      case (3 << 3) | WIRE_VARINT: {
        const c = r.varint("field");
        // An enum is an int32: a negative one is a ten-byte varint (refused by the reader), and
        // one past 2^31 is not an int32 fromBinary would keep as is.
        if (c > 0x7fffffff) throw NOT_HANDLED;
        get.consistency = c;
        break;
      }
      default:
        throw NOT_HANDLED;
    }
  }
  return get;
}

function readSession(r: ProtoReader): WriteSession {
  const session: WriteSession = {
    $typeName: "dengine.api.v1.WriteSession",
    clientId: "",
    sequence: 0n,
    firstIncomplete: 0n,
  };
  const f = new Fields(r, 3);
  while (f.next()) {
    const tag = f.tag;
    switch (tag) {
      case (1 << 3) | WIRE_LEN:
        session.clientId = readString(r);
        break;
      case (2 << 3) | WIRE_VARINT:
        session.sequence = readU64(r);
        break;
      case (3 << 3) | WIRE_VARINT:
        session.firstIncomplete = readU64(r);
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  return session;
}
