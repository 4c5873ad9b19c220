// Protobuf varints over JS numbers (up to 2^53 - 1), and a reader of protobuf fields, for the
// hand-written codecs of the hot paths (log records, peer messages).
import { CodecError } from "./errors.js";

/** Protobuf wire types (the low three bits of a tag). */
export const WIRE_VARINT = 0;
export const WIRE_BIT64 = 1;
export const WIRE_LEN = 2;
export const WIRE_BIT32 = 5;

export function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

/** Writes `v` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  // Numbers up to 2^53 do not fit bitwise operators, hence % and division above 2^31.
  while (v >= 0x80) {
    buf[pos++] = v < 0x80000000 ? (v & 0x7f) | 0x80 : (v % 128) | 0x80;
    v = v < 0x80000000 ? v >>> 7 : Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

/** Size of a varint field (one-byte tag + value), 0 when the value is the default 0. */
export const varintFieldSize = (v: number): number => (v === 0 ? 0 : 1 + varintSize(v));

/** Size of a length-delimited field with a one-byte tag, 0 when empty. */
export const bytesFieldSize = (n: number): number => (n === 0 ? 0 : 1 + varintSize(n) + n);

/** Writes a one-byte tag and a varint unless the value is 0 (proto3 leaves defaults out). */
export function writeVarintField(buf: Uint8Array, pos: number, tag: number, v: number): number {
  if (v === 0) return pos;
  buf[pos] = tag;
  return writeVarint(buf, pos + 1, v);
}

/** Writes a one-byte tag, the length and the bytes unless they are empty. */
export function writeBytesField(buf: Uint8Array, pos: number, tag: number, b: Uint8Array): number {
  if (b.length === 0) return pos;
  buf[pos] = tag;
  pos = writeVarint(buf, pos + 1, b.length);
  buf.set(b, pos);
  return pos + b.length;
}

/** Reads protobuf fields from buf[pos, end); every failure is a CodecError naming the field. */
export class ProtoReader {
  constructor(
    readonly buf: Uint8Array,
    public pos = 0,
    readonly end = buf.length,
  ) {}

  varint(what: string): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new CodecError(`truncated varint in ${what}`);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) {
          throw new CodecError(`${what} is larger than 2^53 - 1`);
        }
        return result;
      }
      mul *= 128;
    }
    throw new CodecError(`malformed varint in ${what}`);
  }

  /** A length-delimited field's bytes, as a view into the buffer. */
  bytes(what: string): Uint8Array {
    const n = this.varint(`${what} length`);
    if (n > this.end - this.pos) throw new CodecError(`${what} runs past its message`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  /** Skips an unknown field. */
  skip(wireType: number, what: string): void {
    switch (wireType) {
      case WIRE_VARINT:
        this.varint(what);
        return;
      case WIRE_LEN:
        this.bytes(what);
        return;
      case WIRE_BIT64:
        this.pos += 8;
        break;
      case WIRE_BIT32:
        this.pos += 4;
        break;
      default:
        throw new CodecError(`unsupported wire type ${wireType} in ${what}`);
    }
    if (this.pos > this.end) throw new CodecError(`${what} runs past its message`);
  }
}

/** Throws unless a known field arrived with the wire type the schema gives it. */
export function expectWire(actual: number, expected: number, what: string): void {
  if (actual !== expected) throw new CodecError(`${what} has wire type ${actual}`);
}
