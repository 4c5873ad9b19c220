// The fast codec of dengine.v1.KeyValue, the record the LMDB tables and snapshot frames hold (one
// per key version). Byte-identical to protobuf-es's encoding (codec.test.ts checks it).

import { EMPTY } from "./bytes.js";
import { KvError } from "./errors.js";
import type { ChangeRecord } from "./tables.js";
import type { KeyValue } from "./types.js";
import { varintSize, WireReader, WireWriter, WT_LEN } from "./wire.js";

/** Appends `kv`'s fields to `w`; without the key when the table key already holds it. */
export function writeKeyValue(w: WireWriter, kv: KeyValue, withKey = true): void {
  if (withKey) w.bytesField(1, kv.key);
  w.uintField(2, kv.createRevision);
  w.uintField(3, kv.modRevision);
  w.uintField(4, kv.version);
  w.bytesField(5, kv.value);
  w.uintField(6, kv.lease);
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

/** dengine.v1.KvChanges: the keys one apply batch wrote (an LMDB changes-table value). */
export function encodeChanges(list: readonly ChangeRecord[]): Uint8Array {
  const w = new WireWriter(list.length * 24 + 16);
  for (const c of list) {
    w.nested(1, () => {
      w.uintField(1, c.revision);
      w.bytesField(2, c.key);
    });
  }
  return w.finish();
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
    while (!inner.done()) {
      const t = inner.tag();
      if (t === 1 << 3) revision = inner.varint();
      else if (t === ((2 << 3) | WT_LEN)) key = inner.bytes();
      else inner.skip(t & 7);
    }
    out.push({ revision, key });
  }
  return out;
}
