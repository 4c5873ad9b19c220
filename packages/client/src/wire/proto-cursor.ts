// What the hot Pipeline messages are read and written with by hand (client: pipeline-codec.ts;
// server: @d-engine/transport's pipeline-decoding.ts and pipeline-encoding.ts), where
// protobuf-es's reflection over descriptors costs most of a small call's CPU: the protobuf wire
// primitives of @d-engine/proto/varint (the same ones the Raft codecs use), plus what a reader
// that may hand a message back to protobuf-es needs. Numbers are JavaScript numbers: anything at
// or past 2^53 is left to protobuf-es (the reader throws, writers' callers check `safeU64`
// first), so nothing here ever rounds.
import {
  CodecError,
  ProtoReader,
  varintSize,
  WIRE_LEN,
  WIRE_VARINT,
  writeVarint,
} from "@d-engine/proto/varint";

export { ProtoReader, varintSize, WIRE_LEN, WIRE_VARINT };

/** Thrown while reading a message that protobuf-es must read instead. */
class NotHandled extends Error {}
export const NOT_HANDLED = new NotHandled("left to protobuf-es");

/**
 * Whether `e`, thrown while reading by hand, means "read it with protobuf-es instead": a field
 * this reader leaves alone, or bytes it cannot read (a number past 2^53, a cut message), which
 * protobuf-es then reads or refuses with its own error.
 */
export function handBack(e: unknown): boolean {
  return e === NOT_HANDLED || e instanceof CodecError;
}

/**
 * Walks one message's fields for a hand reader: `next()` reads the next tag into `tag` (false at
 * the message's end), and hands the message back when a field comes twice (protobuf merges or
 * overrides it) or its number is past `max` (unknown here). Field numbers 1-30.
 */
export class Fields {
  tag = 0;
  private seen = 0;

  constructor(
    private readonly r: ProtoReader,
    private readonly max: number,
  ) {}

  next(): boolean {
    const r = this.r;
    if (r.pos >= r.end) return false;
    this.tag = r.varint("tag");
    const field = this.tag >>> 3;
    if (field < 1 || field > this.max) throw NOT_HANDLED;
    const bit = 1 << field;
    if (this.seen & bit) throw NOT_HANDLED;
    this.seen |= bit;
    return true;
  }
}

/** A uint64 field's value as protobuf-es holds it. */
export function readU64(r: ProtoReader): bigint {
  return BigInt(r.varint("uint64"));
}

const utf8 = new TextDecoder();

/** A string field, decoded as protobuf-es decodes it (invalid UTF-8 becomes U+FFFD). */
export function readString(r: ProtoReader): string {
  return utf8.decode(r.bytes("string"));
}

/** A nested message's fields, as a reader of their own. */
export function nested(r: ProtoReader): ProtoReader {
  const { length } = r.bytes("message");
  return new ProtoReader(r.buf, r.pos - length, r.pos);
}

/** Whether the reader has fields left (for messages whose fields may repeat). */
export function more(r: ProtoReader): boolean {
  return r.pos < r.end;
}

/** Whether `v` can be written here: a uint64 below 2^53. */
export function safeU64(v: bigint): boolean {
  return v >= 0n && v <= MAX_SAFE;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 field's size (tag and value; 0 when it is zero, as proto3 leaves it out). */
export function u64Size(v: bigint): number {
  return v === 0n ? 0 : 1 + varintSize(Number(v));
}

/** A bytes field's size (0 when empty). */
export function bytesSize(b: Uint8Array): number {
  return b.length === 0 ? 0 : 1 + varintSize(b.length) + b.length;
}

/** A nested message field's size around a body of `body` bytes (always written). */
export function messageSize(body: number): number {
  return 1 + varintSize(body) + body;
}

/** Writes into a buffer of the exact size computed beforehand. Field numbers here are below 16. */
export class ProtoWriter {
  readonly buf: Uint8Array;
  private pos = 0;

  constructor(size: number) {
    this.buf = new Uint8Array(size);
  }

  tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  varint(n: number): void {
    this.pos = writeVarint(this.buf, this.pos, n);
  }

  u64(field: number, v: bigint): void {
    if (v === 0n) return;
    this.tag(field, WIRE_VARINT);
    this.varint(Number(v));
  }

  bool(field: number, v: boolean): void {
    if (!v) return;
    this.tag(field, WIRE_VARINT);
    this.buf[this.pos++] = 1;
  }

  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.tag(field, WIRE_LEN);
    this.varint(b.length);
    this.raw(b);
  }

  /** A nested message's header: its tag and its body's length. */
  message(field: number, body: number): void {
    this.tag(field, WIRE_LEN);
    this.varint(body);
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}
