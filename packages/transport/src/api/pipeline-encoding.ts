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
import {
  bytesSize,
  ProtoWriter,
  safeU64 as safe,
  u64Size,
  varintSize,
} from "@d-engine/client/wire";
import type { KeyValue } from "@d-engine/proto";
import { PipelineResultSchema } from "@d-engine/proto/api";
import type { ResultInit } from "./pipeline-routes.js";

/** A get or put result written here, with its sizes measured once. */
interface HandPart {
  readonly r: ResultInit;
  /** The whole PipelineResult. */
  readonly size: number;
  /** The GetResponse or PutResponse inside it. */
  readonly body: number;
  /** The KeyValue inside that (kv, prev_kv), or -1 when there is none. */
  readonly kv: number;
}

/** Any other result, as protobuf-es writes it. */
interface BytesPart {
  readonly size: number;
  readonly bytes: Uint8Array;
}

/** The PipelineResponse carrying `results`, as protobuf bytes. */
export function encodePipelineResponse(results: readonly ResultInit[]): Uint8Array {
  const parts: (HandPart | BytesPart)[] = new Array(results.length);
  let total = 0;
  for (let i = 0; i < results.length; i++) {
    const r = results[i] as ResultInit;
    let part: HandPart | BytesPart | undefined = measure(r);
    if (part === undefined) {
      const bytes = toBinary(PipelineResultSchema, create(PipelineResultSchema, r));
      part = { size: bytes.length, bytes };
    }
    parts[i] = part;
    total += 1 + varintSize(part.size) + part.size;
  }
  const w = new ProtoWriter(total);
  for (const p of parts) {
    w.tag(1, 2);
    w.varint(p.size);
    if ("bytes" in p) w.raw(p.bytes);
    else writeResult(w, p);
  }
  return w.buf;
}

/** A get or put result's sizes; undefined for one protobuf-es must write. */
function measure(r: ResultInit): HandPart | undefined {
  const o = r.result;
  if (!safe(r.id)) return undefined;
  let body: number;
  let kv: KeyValue | undefined;
  if (o.case === "get") {
    if (!safe(o.value.revision)) return undefined;
    body = u64Size(o.value.revision);
    kv = o.value.kv;
  } else if (o.case === "put") {
    if (!safe(o.value.revision) || !safe(o.value.lease)) return undefined;
    body = u64Size(o.value.revision) + u64Size(o.value.lease);
    kv = o.value.prevKv;
  } else {
    return undefined;
  }
  let kvBytes = -1;
  if (kv) {
    kvBytes = kvSize(kv);
    if (kvBytes < 0) return undefined;
    body += 1 + varintSize(kvBytes) + kvBytes;
  }
  return { r, body, kv: kvBytes, size: u64Size(r.id) + 1 + varintSize(body) + body };
}

function writeResult(w: ProtoWriter, p: HandPart): void {
  const o = p.r.result;
  w.u64(1, p.r.id);
  if (o.case === "get") {
    w.tag(4, 2);
    w.varint(p.body);
    w.u64(1, o.value.revision);
    writeKvField(w, o.value.kv, p.kv);
  } else if (o.case === "put") {
    w.tag(3, 2);
    w.varint(p.body);
    w.u64(1, o.value.revision);
    writeKvField(w, o.value.prevKv, p.kv);
    w.u64(3, o.value.lease);
  }
}

/** The KeyValue field (number 2 in both GetResponse and PutResponse), if set. */
function writeKvField(w: ProtoWriter, kv: KeyValue | undefined, size: number): void {
  if (!kv) return;
  w.tag(2, 2);
  w.varint(size);
  writeKv(w, kv);
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

function writeKv(w: ProtoWriter, kv: KeyValue): void {
  w.bytes(1, kv.key);
  w.u64(2, kv.createRevision);
  w.u64(3, kv.modRevision);
  w.u64(4, kv.version);
  w.bytes(5, kv.value);
  w.u64(6, kv.lease);
}
