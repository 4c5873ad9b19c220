// A Pipeline response message written by hand for the results that fill it under load, get and
// put: protobuf-es's toBinary walks each message's descriptor by reflection, the largest part of
// a served read's CPU after the stream itself (docs/benchmarks.md, session 11). Every other
// result, and any number beyond 2^53, goes through toBinary as before; the bytes are protobuf's
// either way (pipeline-encoding.test.ts checks them against protobuf-es's, byte for byte).
//
// The messages (proto/dengine/api/v1/kv.proto, proto/dengine/v1/kv.proto), fields in number
// order, zero values left out as proto3 does, a set oneof or message field always written:
//   PipelineResponse { repeated PipelineResult results = 1; }
//   PipelineResult   { uint64 id = 1; oneof { PutResponse put = 3; GetResponse get = 4; ... } }
//   GetResponse      { uint64 revision = 1; KeyValue kv = 2; }
//   PutResponse      { uint64 revision = 1; KeyValue prev_kv = 2; uint64 lease = 3; }
//   KeyValue         { bytes key = 1; uint64 create_revision = 2; uint64 mod_revision = 3;
//                      uint64 version = 4; bytes value = 5; uint64 lease = 6; }
import { create, toBinary } from "@bufbuild/protobuf";
import type { KeyValue } from "@d-engine/proto";
import { type GetResponse, PipelineResultSchema, type PutResponse } from "@d-engine/proto/api";
import type { ResultInit } from "./pipeline-routes.js";

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/** Whether `v` is a uint64 written here: as a Number, so at most 2^53 - 1. */
function safe(v: bigint): boolean {
  return v >= 0n && v <= MAX_SAFE;
}

/** One result's bytes: written here, or by protobuf-es (`bytes`). */
type Part = { readonly size: number; readonly r: ResultInit; readonly bytes?: Uint8Array };

/** The PipelineResponse carrying `results`, as protobuf bytes. */
export function encodePipelineResponse(results: readonly ResultInit[]): Uint8Array {
  const parts: Part[] = new Array(results.length);
  let total = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as ResultInit;
    let part: Part = { size: handSize(r), r };
    if (part.size < 0) {
      const bytes = toBinary(PipelineResultSchema, create(PipelineResultSchema, r));
      part = { size: bytes.length, r, bytes };
    }
    parts[i] = part;
    total += 1 + varintSize(part.size) + part.size;
  }
  const w = new Writer(total);
  for (const p of parts) {
    w.tag(1, 2);
    w.varint(p.size);
    if (p.bytes) w.raw(p.bytes);
    else writeResult(w, p.r);
  }
  return w.buf;
}

/** A result's size written by hand, or -1 if protobuf-es must write it. */
function handSize(r: ResultInit): number {
  const o = r.result;
  if (!safe(r.id)) return -1;
  let body: number;
  if (o.case === "get") body = getSize(o.value);
  else if (o.case === "put") body = putSize(o.value);
  else return -1;
  if (body < 0) return -1;
  return u64Size(r.id) + 1 + varintSize(body) + body;
}

function writeResult(w: Writer, r: ResultInit): void {
  const o = r.result;
  w.u64(1, r.id);
  if (o.case === "get") {
    w.tag(4, 2);
    w.varint(getSize(o.value));
    writeGet(w, o.value);
  } else if (o.case === "put") {
    w.tag(3, 2);
    w.varint(putSize(o.value));
    writePut(w, o.value);
  }
}

function getSize(g: GetResponse): number {
  if (!safe(g.revision)) return -1;
  let n = u64Size(g.revision);
  if (g.kv) {
    const kv = kvSize(g.kv);
    if (kv < 0) return -1;
    n += 1 + varintSize(kv) + kv;
  }
  return n;
}

function writeGet(w: Writer, g: GetResponse): void {
  w.u64(1, g.revision);
  if (g.kv) {
    w.tag(2, 2);
    w.varint(kvSize(g.kv));
    writeKv(w, g.kv);
  }
}

function putSize(p: PutResponse): number {
  if (!safe(p.revision) || !safe(p.lease)) return -1;
  let n = u64Size(p.revision) + u64Size(p.lease);
  if (p.prevKv) {
    const kv = kvSize(p.prevKv);
    if (kv < 0) return -1;
    n += 1 + varintSize(kv) + kv;
  }
  return n;
}

function writePut(w: Writer, p: PutResponse): void {
  w.u64(1, p.revision);
  if (p.prevKv) {
    w.tag(2, 2);
    w.varint(kvSize(p.prevKv));
    writeKv(w, p.prevKv);
  }
  w.u64(3, p.lease);
}

function kvSize(kv: KeyValue): number {
  if (!safe(kv.createRevision) || !safe(kv.modRevision) || !safe(kv.version) || !safe(kv.lease)) {
    return -1;
  }
  return (
    bytesSize(kv.key) +
    u64Size(kv.createRevision) +
    u64Size(kv.modRevision) +
    u64Size(kv.version) +
    bytesSize(kv.value) +
    u64Size(kv.lease)
  );
}

function writeKv(w: Writer, kv: KeyValue): void {
  w.bytes(1, kv.key);
  w.u64(2, kv.createRevision);
  w.u64(3, kv.modRevision);
  w.u64(4, kv.version);
  w.bytes(5, kv.value);
  w.u64(6, kv.lease);
}

/** A uint64 field's size (tag and value; 0 when it is zero, as proto3 leaves it out). */
function u64Size(v: bigint): number {
  return v === 0n ? 0 : 1 + varintSize(Number(v));
}

/** A bytes field's size (0 when empty). */
function bytesSize(b: Uint8Array): number {
  return b.length === 0 ? 0 : 1 + varintSize(b.length) + b.length;
}

/** Bytes of the varint of `n` (a whole number below 2^53). */
function varintSize(n: number): number {
  let size = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

/** Writes into a buffer of the exact size computed beforehand. Field numbers here are below 16. */
class Writer {
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
    this.tag(field, 0);
    this.varint(Number(v));
  }

  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.tag(field, 2);
    this.varint(b.length);
    this.raw(b);
  }

  raw(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
}
