// The fast codec of dengine.v1.KeyValue, the record the LMDB tables and snapshot frames hold (one
// per key version). Byte-identical to protobuf-es's encoding (codec.test.ts checks it).

import { EMPTY } from "./bytes.js";
import { KvError } from "./errors.js";
import type { ChangeRecord } from "./tables.js";
import type { KeyValue } from "./types.js";
import { putVarint, varintSize, WireReader, WireWriter, WT_LEN } from "./wire.js";

/** Appends `kv`'s fields to `w`; without the key when the table key already holds it. */
export function writeKeyValue(w: WireWriter, kv: KeyValue, withKey = true): void {
  // One reservation, then direct writes: this runs for every version written to LMDB and every
  // record of a snapshot. 6 fields: a tag byte and at most 10 varint bytes each, plus the bytes.
  const key = withKey ? kv.key : EMPTY;
  w.ensure(66 + key.length + kv.value.length);
  const b = w.buf;
  let p = w.pos;
  if (key.length > 0) {
    b[p++] = (1 << 3) | WT_LEN;
    p = putVarint(b, p, key.length);
    p = putBytes(b, p, key);
  }
  if (kv.createRevision !== 0) {
    b[p++] = 2 << 3;
    p = putVarint(b, p, kv.createRevision);
  }
  if (kv.modRevision !== 0) {
    b[p++] = 3 << 3;
    p = putVarint(b, p, kv.modRevision);
  }
  if (kv.version !== 0) {
    b[p++] = 4 << 3;
    p = putVarint(b, p, kv.version);
  }
  if (kv.value.length > 0) {
    b[p++] = (5 << 3) | WT_LEN;
    p = putVarint(b, p, kv.value.length);
    p = putBytes(b, p, kv.value);
  }
  if (kv.lease !== 0) {
    b[p++] = 6 << 3;
    p = putVarint(b, p, kv.lease);
  }
  w.pos = p;
}

/** Copies `src` to b[p] and returns the position after it. */
function putBytes(b: Uint8Array, p: number, src: Uint8Array): number {
  const n = src.length;
  if (n <= 16) {
    // Short keys: a loop beats set()'s call overhead.
    for (let i = 0; i < n; i++) b[p + i] = src[i] as number;
  } else {
    b.set(src, p);
  }
  return p + n;
}

function uintFieldSize(n: number): number {
  return n === 0 ? 0 : 1 + varintSize(n);
}

function bytesFieldSize(b: Uint8Array): number {
  return b.length === 0 ? 0 : 1 + varintSize(b.length) + b.length;
}

/** The encoded size of `kv` (what writeKeyValue appends). */
export function keyValueSize(kv: KeyValue, withKey = true): number {
  return (
    (withKey ? bytesFieldSize(kv.key) : 0) +
    uintFieldSize(kv.createRevision) +
    uintFieldSize(kv.modRevision) +
    uintFieldSize(kv.version) +
    bytesFieldSize(kv.value) +
    uintFieldSize(kv.lease)
  );
}

export function encodeKeyValue(kv: KeyValue, withKey = true): Uint8Array {
  const w = new WireWriter(keyValueSize(kv, withKey));
  writeKeyValue(w, kv, withKey);
  return w.finish();
}

/** A copy of buf[start, end) (the default: an exact-size allocation). */
export type CopyBytes = (buf: Uint8Array, start: number, end: number) => Uint8Array;

const exactCopy: CopyBytes = (buf, start, end) => {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
};

/**
 * Reads a KeyValue from buf[start, end); `key` fills in a key the record leaves out. Bytes
 * fields are copied with `copy` (the record must outlive `buf`, which may be reused).
 */
export function readKeyValue(
  buf: Uint8Array,
  start = 0,
  end = buf.length,
  key: Uint8Array = EMPTY,
  copy: CopyBytes = exactCopy,
): KeyValue {
  const r = new WireReader(buf, start, end);
  let createRevision = 0;
  let modRevision = 0;
  let version = 0;
  let value = EMPTY;
  let lease = 0;
  while (!r.done()) {
    const tag = r.tag();
    switch (tag) {
      case (1 << 3) | 2: {
        const [s, e] = r.span();
        key = copy(buf, s, e);
        break;
      }
      case 2 << 3:
        createRevision = r.varint();
        break;
      case 3 << 3:
        modRevision = r.varint();
        break;
      case 4 << 3:
        version = r.varint();
        break;
      case (5 << 3) | 2: {
        const [s, e] = r.span();
        value = copy(buf, s, e);
        break;
      }
      case 6 << 3:
        lease = r.varint();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (r.pos !== end) throw new KvError("corrupt-state", "KeyValue record overruns its length");
  return { key, createRevision, modRevision, version, value, lease };
}

/** A tombstone: the history record of a deletion at `revision`. */
export function tombstone(key: Uint8Array, revision: number): KeyValue {
  return { key, createRevision: 0, modRevision: revision, version: 0, value: EMPTY, lease: 0 };
}

export function isTombstone(kv: KeyValue): boolean {
  return kv.version === 0;
}

/** dengine.v1.KvChanges: keys an apply batch wrote (an LMDB changes-table value). */
export function encodeChanges(list: readonly ChangeRecord[]): Uint8Array {
  const w = new WireWriter(list.length * 24 + 16);
  writeChanges(w, list);
  return w.finish();
}

/** Appends encodeChanges(list)'s bytes to `w` (LMDB encodes into a reused writer). */
export function writeChanges(w: WireWriter, list: readonly ChangeRecord[]): void {
  for (const c of list) {
    const inner =
      (c.revision === 0 ? 0 : 1 + varintSize(c.revision)) +
      (c.key.length === 0 ? 0 : 1 + varintSize(c.key.length) + c.key.length) +
      (c.created ? 2 : 0);
    // Tag and length of the entry, then its fields (each a tag and at most 10 bytes).
    w.ensure(11 + 24 + c.key.length);
    const b = w.buf;
    let p = w.pos;
    b[p++] = (1 << 3) | WT_LEN;
    p = putVarint(b, p, inner);
    if (c.revision !== 0) {
      b[p++] = 1 << 3;
      p = putVarint(b, p, c.revision);
    }
    if (c.key.length > 0) {
      b[p++] = (2 << 3) | WT_LEN;
      p = putVarint(b, p, c.key.length);
      p = putBytes(b, p, c.key);
    }
    if (c.created) {
      b[p++] = 3 << 3;
      b[p++] = 1;
    }
    w.pos = p;
  }
}

export function decodeChanges(b: Uint8Array): ChangeRecord[] {
  const out: ChangeRecord[] = [];
  const r = new WireReader(b);
  while (!r.done()) {
    const tag = r.tag();
    if (tag !== ((1 << 3) | WT_LEN)) {
      r.skip(tag & 7);
      continue;
    }
    const [s, e] = r.span();
    const inner = new WireReader(b, s, e);
    let revision = 0;
    let key = EMPTY;
    let created = false;
    while (!inner.done()) {
      const t = inner.tag();
      if (t === 1 << 3) revision = inner.varint();
      else if (t === ((2 << 3) | WT_LEN)) key = inner.bytes();
      else if (t === 3 << 3) created = inner.varint() !== 0;
      else inner.skip(t & 7);
    }
    out.push({ revision, key, created });
  }
  return out;
}
