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
import type {
  GetRequest,
  PipelineCall,
  PipelineRequest,
  PutRequest,
  WriteSession,
} from "@d-engine/proto/api";

/** Thrown inside the reader when the message needs fromBinary; never escapes this module. */
class NotHandled extends Error {}
const NOT_HANDLED = new NotHandled();

const VARINT = 0;
const LEN = 2;

const utf8 = new TextDecoder();

/** A cursor over one message's bytes (or a nested message's, between pos and end). */
class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  /** An unsigned varint as a Number; NOT_HANDLED beyond 2^53 - 1 (or a truncated varint). */
  varint(): number {
    let result = 0;
    let scale = 1;
    for (let i = 0; i < 8; i++) {
      if (this.pos >= this.end) throw NOT_HANDLED;
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * scale;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw NOT_HANDLED;
        return result;
      }
      scale *= 128;
    }
    // Nine bytes or more: beyond 2^56, or padded; fromBinary decides.
    throw NOT_HANDLED;
  }

  /** A length-delimited field's extent: [start, end) within the buffer. */
  len(): number {
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) throw NOT_HANDLED;
    this.pos = start + n;
    return start;
  }

  bytes(): Uint8Array {
    const start = this.len();
    return this.buf.subarray(start, this.pos);
  }

  nested(): Reader {
    const start = this.len();
    return new Reader(this.buf, start, this.pos);
  }

  /** The next tag as [field number, wire type]; NOT_HANDLED for field numbers past 2^29. */
  tag(): number {
    return this.varint();
  }

  more(): boolean {
    return this.pos < this.end;
  }
}

/**
 * The PipelineRequest in `bytes`, or undefined when it carries anything but put and get calls in
 * the fields above (then fromBinary must read it).
 */
export function decodePipelineRequestFast(bytes: Uint8Array): PipelineRequest | undefined {
  try {
    return readRequest(new Reader(bytes, 0, bytes.length));
  } catch (e) {
    if (e === NOT_HANDLED) return undefined;
    throw e;
  }
}

function readRequest(r: Reader): PipelineRequest {
  const calls: PipelineCall[] = [];
  const cancel: bigint[] = [];
  while (r.more()) {
    const tag = r.tag();
    if (tag === ((1 << 3) | LEN)) {
      calls.push(readCall(r.nested()));
    } else if (tag === ((2 << 3) | LEN)) {
      // Packed (proto3's default).
      const p = r.nested();
      while (p.more()) cancel.push(BigInt(p.varint()));
    } else if (tag === ((2 << 3) | VARINT)) {
      cancel.push(BigInt(r.varint()));
    } else {
      throw NOT_HANDLED;
    }
  }
  return { $typeName: "dengine.api.v1.PipelineRequest", calls, cancel };
}

function readCall(r: Reader): PipelineCall {
  let id = 0n;
  let timeoutMs = 0n;
  let request: PipelineCall["request"] = { case: undefined };
  let seen = 0;
  while (r.more()) {
    const tag = r.tag();
    const field = tag >>> 3;
    // A field given twice merges (messages) or overrides (scalars), and a second oneof member
    // replaces the first: rare enough to leave to fromBinary.
    if (field < 1 || field > 4 || seen & (1 << field)) throw NOT_HANDLED;
    seen |= 1 << field;
    if (tag === ((1 << 3) | VARINT)) id = BigInt(r.varint());
    else if (tag === ((2 << 3) | VARINT)) timeoutMs = BigInt(r.varint());
    else if (tag === ((3 << 3) | LEN) && !(seen & (1 << 4)))
      request = { case: "put", value: readPut(r.nested()) };
    else if (tag === ((4 << 3) | LEN) && !(seen & (1 << 3)))
      request = { case: "get", value: readGet(r.nested()) };
    else throw NOT_HANDLED;
  }
  return { $typeName: "dengine.api.v1.PipelineCall", id, timeoutMs, request };
}

const EMPTY = new Uint8Array(0);

function readPut(r: Reader): PutRequest {
  let key: Uint8Array = EMPTY;
  let value: Uint8Array = EMPTY;
  let lease = 0n;
  let ttlSeconds = 0n;
  let prevKv = false;
  let session: WriteSession | undefined;
  let seen = 0;
  while (r.more()) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field < 1 || field > 6 || seen & (1 << field)) throw NOT_HANDLED;
    seen |= 1 << field;
    switch (tag) {
      case (1 << 3) | LEN:
        key = r.bytes();
        break;
      case (2 << 3) | LEN:
        value = r.bytes();
        break;
      case (3 << 3) | VARINT:
        lease = BigInt(r.varint());
        break;
      case (4 << 3) | VARINT:
        ttlSeconds = BigInt(r.varint());
        break;
      case (5 << 3) | VARINT:
        prevKv = r.varint() !== 0;
        break;
      case (6 << 3) | LEN:
        session = readSession(r.nested());
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  // Fresh empty arrays where fromBinary makes them (one per message, never shared with a caller).
  const put: PutRequest = {
    $typeName: "dengine.api.v1.PutRequest",
    key: key === EMPTY ? new Uint8Array(0) : key,
    value: value === EMPTY ? new Uint8Array(0) : value,
    lease,
    ttlSeconds,
    prevKv,
  };
  if (session !== undefined) put.session = session;
  return put;
}

function readGet(r: Reader): GetRequest {
  let key: Uint8Array = EMPTY;
  let revision = 0n;
  let consistency = 0;
  let seen = 0;
  while (r.more()) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field < 1 || field > 3 || seen & (1 << field)) throw NOT_HANDLED;
    seen |= 1 << field;
    switch (tag) {
      case (1 << 3) | LEN:
        key = r.bytes();
        break;
      case (2 << 3) | VARINT:
        revision = BigInt(r.varint());
        break;
      case (3 << 3) | VARINT:
        consistency = r.varint();
        // An enum is an int32: a negative one is a ten-byte varint (refused above), and one
        // past 2^31 is not an int32 fromBinary would keep as is.
        if (consistency > 0x7fffffff) throw NOT_HANDLED;
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  return {
    $typeName: "dengine.api.v1.GetRequest",
    key: key === EMPTY ? new Uint8Array(0) : key,
    revision,
    consistency,
  };
}

function readSession(r: Reader): WriteSession {
  let clientId = "";
  let sequence = 0n;
  let firstIncomplete = 0n;
  let seen = 0;
  while (r.more()) {
    const tag = r.tag();
    const field = tag >>> 3;
    if (field < 1 || field > 3 || seen & (1 << field)) throw NOT_HANDLED;
    seen |= 1 << field;
    switch (tag) {
      case (1 << 3) | LEN:
        clientId = utf8.decode(r.bytes());
        break;
      case (2 << 3) | VARINT:
        sequence = BigInt(r.varint());
        break;
      case (3 << 3) | VARINT:
        firstIncomplete = BigInt(r.varint());
        break;
      default:
        throw NOT_HANDLED;
    }
  }
  return { $typeName: "dengine.api.v1.WriteSession", clientId, sequence, firstIncomplete };
}
