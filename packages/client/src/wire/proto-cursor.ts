// The few protobuf wire primitives the hot Pipeline messages are read and written with by hand
// (client: pipeline-codec.ts; server: @d-engine/transport's pipeline-decoding.ts and
// pipeline-encoding.ts), where protobuf-es's reflection over descriptors costs most of a small
// call's CPU. Numbers are JavaScript numbers: anything at or past 2^53 is left to protobuf-es
// (readers throw NOT_HANDLED, writers' callers check `safeU64` first), so nothing here ever rounds.

/** Thrown by ProtoReader when a message needs protobuf-es; callers catch it and fall back. */
export class NotHandled extends Error {}
export const NOT_HANDLED = new NotHandled("left to protobuf-es");

export const WIRE_VARINT = 0;
export const WIRE_LEN = 2;

const utf8 = new TextDecoder();

/** A cursor over one message's bytes (or a nested message's, between pos and end). */
export class ProtoReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  /** An unsigned varint as a Number; NOT_HANDLED past 2^53 - 1 or when cut short. */
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
    // Nine bytes or more: past 2^56, or padded; protobuf-es decides.
    throw NOT_HANDLED;
  }

  /** A uint64 field's value as protobuf-es holds it. */
  u64(): bigint {
    return BigInt(this.varint());
  }

  /** Skips a length-delimited field's bytes; returns where they start. */
  private len(): number {
    const n = this.varint();
    const start = this.pos;
    if (n > this.end - start) throw NOT_HANDLED;
    this.pos = start + n;
    return start;
  }

  /** A bytes field: a view of the input, as protobuf-es gives it. */
  bytes(): Uint8Array {
    const start = this.len();
    return this.buf.subarray(start, this.pos);
  }

  string(): string {
    return utf8.decode(this.bytes());
  }

  /** A cursor over a nested message's bytes. */
  nested(): ProtoReader {
    const start = this.len();
    return new ProtoReader(this.buf, start, this.pos);
  }

  more(): boolean {
    return this.pos < this.end;
  }
}

/**
 * Marks field numbers seen in one message: a field given twice (merged or overridden in
 * protobuf) is NOT_HANDLED. Field numbers 1-30.
 */
export function once(seen: number, field: number, max: number): number {
  if (field < 1 || field > max) throw NOT_HANDLED;
  const bit = 1 << field;
  if (seen & bit) throw NOT_HANDLED;
  return seen | bit;
}

/** Whether `v` can be written here: a uint64 below 2^53. */
export function safeU64(v: bigint): boolean {
  return v >= 0n && v <= MAX_SAFE;
}
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Bytes of the varint of `n` (a whole number below 2^53). */
export function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

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
    while (n >= 128) {
      this.buf[this.pos++] = (n % 128) | 128;
      n = Math.floor(n / 128);
    }
    this.buf[this.pos++] = n;
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
