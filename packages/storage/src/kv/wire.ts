// A minimal protobuf wire-format writer and reader for the hot paths (KeyValue records, snapshot
// record frames, put commands). protobuf-es spends microseconds per message in reflection; these
// write exactly the bytes protobuf-es writes for the same message (fields in number order,
// proto3 defaults omitted), which codec.test.ts checks, so the formats stay one.

import { KvError } from "./errors.js";

export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

export class WireWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initial = 256) {
    this.buf = new Uint8Array(initial);
  }

  ensure(extra: number): void {
    if (this.pos + extra <= this.buf.length) return;
    let size = Math.max(64, this.buf.length * 2);
    while (size < this.pos + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(n: number): void {
    this.ensure(10);
    this.pos = putVarint(this.buf, this.pos, n);
  }

  tag(field: number, wireType: number): void {
    this.varint((field << 3) | wireType);
  }

  raw(bytes: Uint8Array): void {
    this.ensure(bytes.length);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
  }

  /** A bytes field, omitted when empty (proto3 default). */
  bytesField(field: number, bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.tag(field, WT_LEN);
    this.varint(bytes.length);
    this.raw(bytes);
  }

  /** A uint64 field, omitted when 0 (proto3 default). */
  uintField(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WT_VARINT);
    this.varint(n);
  }

  /** A length-delimited field whose content `write` appends; the length is patched after. */
  nested(field: number, write: () => void): void {
    this.tag(field, WT_LEN);
    // Reserve the length as one byte and move the content if it turns out longer: most nested
    // records are short, and a move is cheap next to a second pass.
    this.ensure(1);
    const lenPos = this.pos++;
    const start = this.pos;
    write();
    const len = this.pos - start;
    const lenBytes = varintSize(len);
    if (lenBytes > 1) {
      this.ensure(lenBytes - 1);
      this.buf.copyWithin(start + lenBytes - 1, start, this.pos);
      this.pos += lenBytes - 1;
    }
    const save = this.pos;
    this.pos = lenPos;
    this.varint(len);
    this.pos = save;
  }

  /** The bytes written (the buffer itself when it is exactly full, else a copy). */
  finish(): Uint8Array {
    return this.pos === this.buf.length ? this.buf : this.buf.slice(0, this.pos);
  }
}

/**
 * Writes `n` (a safe non-negative integer) as a varint at b[p] and returns the position after
 * it; the caller has made room (at most 10 bytes). For hot loops that reserve space once.
 */
export function putVarint(b: Uint8Array, p: number, n: number): number {
  if (n < 0x80000000) {
    let v = n >>> 0;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
  } else {
    let v = n;
    while (v >= 0x80) {
      b[p++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    b[p++] = v;
  }
  return p;
}

export function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

export class WireReader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    pos = 0,
    readonly end = buf.length,
    /** bytes() copies (the default), or returns views into `buf` when the caller knows it stays. */
    readonly copy = true,
  ) {
    this.pos = pos;
  }

  done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a safe integer; larger values are refused (revisions and ids are < 2^53). */
  varint(): number {
    const b = this.buf;
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw wireError("truncated varint");
      const byte = b[this.pos++] as number;
      result += (byte & 0x7f) * mul;
      if (byte < 0x80) {
        if (result > Number.MAX_SAFE_INTEGER) throw wireError("integer above 2^53 - 1");
        return result;
      }
      mul *= 0x80;
    }
    throw wireError("varint longer than 10 bytes");
  }

  /** The next tag as field * 8 + wire type. */
  tag(): number {
    return this.varint();
  }

  /** A length-delimited field's content: a copy, or a view when the reader was made so. */
  bytes(): Uint8Array {
    const len = this.varint();
    if (this.pos + len > this.end) throw wireError("truncated length-delimited field");
    if (!this.copy) {
      // A plain Uint8Array view even if `buf` is a Buffer (whose subarray would be a Buffer);
      // subarray is the cheaper way to make one (the constructor checks more).
      const b = this.buf;
      const out =
        b.constructor === Uint8Array
          ? b.subarray(this.pos, this.pos + len)
          : new Uint8Array(b.buffer, b.byteOffset + this.pos, len);
      this.pos += len;
      return out;
    }
    // A plain Uint8Array copy: Buffer.prototype.slice would return a view, and lmdb-js reuses
    // the buffer it reads into.
    const out = new Uint8Array(len);
    out.set(this.buf.subarray(this.pos, this.pos + len));
    this.pos += len;
    return out;
  }

  /** A length-delimited field as [start, end) of the buffer, not copied. */
  span(): [number, number] {
    const len = this.varint();
    const start = this.pos;
    if (start + len > this.end) throw wireError("truncated length-delimited field");
    this.pos += len;
    return [start, start + len];
  }

  skip(wireType: number): void {
    switch (wireType) {
      case WT_VARINT:
        this.varint();
        return;
      case WT_I64:
        this.pos += 8;
        break;
      case WT_LEN:
        this.span();
        return;
      case WT_I32:
        this.pos += 4;
        break;
      default:
        throw wireError(`unsupported wire type ${wireType}`);
    }
    if (this.pos > this.end) throw wireError("truncated fixed-width field");
  }
}

function wireError(what: string): KvError {
  return new KvError("invalid-argument", `malformed protobuf: ${what}`);
}
