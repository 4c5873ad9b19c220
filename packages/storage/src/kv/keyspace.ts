// The multi-version keyspace: every key's versions across revisions, in two tables. `kv` holds
// each live key's current version; `hist` holds the versions it superseded and tombstones of
// deletions, keyed by histKey(key, revision) so one key's history is contiguous and in revision
// order. A put of a new key is one table write; overwriting also moves the old version to hist.
// Reads at the current revision touch kv only; reads at an older revision merge both.

import { bytesEqual, compareBytes } from "./bytes.js";
import { isTombstone, tombstone } from "./record-codec.js";
import type { KvTableSet } from "./tables.js";
import type { KeyValue } from "./types.js";

/** Keys are limited so that history keys (escaped key + revision) fit LMDB's 1978-byte keys. */
export const MAX_KEY_BYTES = 512;

// History keys: the user key with each 0x00 escaped as 00 ff, then the terminator 00 01, then
// the revision as 8 big-endian bytes. The terminator sorts below any escaped or raw byte that
// can follow, so history keys sort by user key, then revision, and no key's records interleave
// with another's (a plain key ++ revision would mix "a" and "a\0").

function escapedLength(key: Uint8Array): number {
  let n = key.length;
  for (let i = 0; i < key.length; i++) if (key[i] === 0) n++;
  return n;
}

function writeEscaped(out: Uint8Array, key: Uint8Array): number {
  let p = 0;
  for (let i = 0; i < key.length; i++) {
    const b = key[i] as number;
    out[p++] = b;
    if (b === 0) out[p++] = 0xff;
  }
  return p;
}

function histKeyWith(
  key: Uint8Array,
  terminator: number,
  revision: number | undefined,
): Uint8Array {
  const n = escapedLength(key);
  const out = new Uint8Array(n + 2 + (revision === undefined ? 0 : 8));
  let p = writeEscaped(out, key);
  out[p++] = 0;
  out[p++] = terminator;
  if (revision !== undefined) {
    const hi = Math.floor(revision / 0x100000000);
    const lo = revision >>> 0;
    out[p] = hi >>> 24;
    out[p + 1] = (hi >>> 16) & 0xff;
    out[p + 2] = (hi >>> 8) & 0xff;
    out[p + 3] = hi & 0xff;
    out[p + 4] = lo >>> 24;
    out[p + 5] = (lo >>> 16) & 0xff;
    out[p + 6] = (lo >>> 8) & 0xff;
    out[p + 7] = lo & 0xff;
  }
  return out;
}

export function histKey(key: Uint8Array, revision: number): Uint8Array {
  return histKeyWith(key, 1, revision);
}

/** The smallest history key of `key` (and the bound below which every smaller key's lie). */
export function histPrefix(key: Uint8Array): Uint8Array {
  return histKeyWith(key, 1, undefined);
}

/** The bound above every history key of `key`. */
export function histPrefixEnd(key: Uint8Array): Uint8Array {
  return histKeyWith(key, 2, undefined);
}

/** The user key and revision of a history key. */
export function decodeHistKey(hk: Uint8Array): { key: Uint8Array; revision: number } {
  const key = new Uint8Array(hk.length - 10);
  let p = 0;
  let i = 0;
  for (; i < hk.length - 10; i++) {
    const b = hk[i] as number;
    if (b === 0) {
      if (hk[i + 1] !== 0xff) break;
      i++;
    }
    key[p++] = b;
  }
  const r = i + 2;
  const hi =
    (((hk[r] as number) << 24) >>> 0) +
    ((hk[r + 1] as number) << 16) +
    ((hk[r + 2] as number) << 8) +
    (hk[r + 3] as number);
  const lo =
    (((hk[r + 4] as number) << 24) >>> 0) +
    ((hk[r + 5] as number) << 16) +
    ((hk[r + 6] as number) << 8) +
    (hk[r + 7] as number);
  return { key: p === key.length ? key : key.slice(0, p), revision: hi * 0x100000000 + lo };
}

export class Keyspace {
  constructor(private readonly t: KvTableSet) {}

  latest(key: Uint8Array): KeyValue | undefined {
    return this.t.kv.get(key);
  }

  /** The newest history record of `key` at or below `revision` (maybe a tombstone). */
  historyAtOrBefore(key: Uint8Array, revision: number): KeyValue | undefined {
    for (const [, rec] of this.t.hist.range(histPrefix(key), histKey(key, revision + 1), true)) {
      return rec;
    }
    return undefined;
  }

  /** The version of `key` visible at `revision`; `current` is the latest revision written. */
  at(key: Uint8Array, revision: number, current: number): KeyValue | undefined {
    const live = this.t.kv.get(key);
    if (revision >= current) return live;
    if (live !== undefined && live.modRevision <= revision) return live;
    const h = this.historyAtOrBefore(key, revision);
    return h === undefined || isTombstone(h) ? undefined : h;
  }

  /**
   * The live versions at `revision` of the keys in [start, end) (end undefined: no bound), in
   * key order (descending with `reverse`, supported at the current revision only).
   */
  *rangeAt(
    start: Uint8Array,
    end: Uint8Array | undefined,
    revision: number,
    current: number,
    reverse = false,
  ): Generator<KeyValue> {
    if (revision >= current) {
      for (const [, kv] of this.t.kv.range(start, end, reverse)) yield kv;
      return;
    }
    if (reverse) throw new Error("reverse range at a past revision is not supported");
    // Merge the live table and the history table, both in key order; for each key the visible
    // version is the live one if it is old enough, else its newest history record <= revision.
    const liveIt = this.t.kv.range(start, end)[Symbol.iterator]();
    const histIt = this.t.hist
      .range(histPrefix(start), end === undefined ? undefined : histPrefix(end))
      [Symbol.iterator]();
    let l = liveIt.next();
    let h = histIt.next();
    while (!l.done || !h.done) {
      const liveKv = l.done ? undefined : l.value[1];
      const histKv = h.done ? undefined : h.value[1];
      const c =
        liveKv === undefined ? 1 : histKv === undefined ? -1 : compareBytes(liveKv.key, histKv.key);
      const key = (c <= 0 ? liveKv : histKv)?.key as Uint8Array;
      let best: KeyValue | undefined;
      while (!h.done && bytesEqual(h.value[1].key, key)) {
        if (h.value[1].modRevision <= revision) best = h.value[1];
        h = histIt.next();
      }
      let visible = best;
      if (c <= 0) {
        if (liveKv !== undefined && liveKv.modRevision <= revision) visible = liveKv;
        l = liveIt.next();
      }
      if (visible !== undefined && !isTombstone(visible)) yield visible;
    }
  }

  /** The number of live keys of [start, end) at `revision`. */
  countAt(
    start: Uint8Array,
    end: Uint8Array | undefined,
    revision: number,
    current: number,
  ): number {
    if (revision >= current) return this.t.kv.count(start, end);
    let n = 0;
    for (const _ of this.rangeAt(start, end, revision, current)) n++;
    return n;
  }

  /** Writes `kv` as the key's live version if the key has none; returns whether it did. */
  insert(kv: KeyValue): boolean {
    return this.t.kv.insert(kv.key, kv);
  }

  /** Writes `kv` as the key's live version, moving `prev` (the old live version) to history. */
  put(kv: KeyValue, prev: KeyValue | undefined): void {
    if (prev !== undefined) this.t.hist.put(histKey(prev.key, prev.modRevision), prev);
    this.t.kv.put(kv.key, kv);
  }

  /** Deletes the live version `prev` at `revision`, leaving it and a tombstone in history. */
  delete(prev: KeyValue, revision: number): void {
    this.t.hist.put(histKey(prev.key, prev.modRevision), prev);
    this.t.hist.put(histKey(prev.key, revision), tombstone(prev.key, revision));
    this.t.kv.delete(prev.key);
  }

  /** The record written to `key` at exactly `revision` (a version or a tombstone), if any. */
  writtenAt(key: Uint8Array, revision: number): KeyValue | undefined {
    const live = this.t.kv.get(key);
    if (live !== undefined && live.modRevision === revision) return live;
    return this.t.hist.get(histKey(key, revision));
  }

  /**
   * Drops what compaction at `revision` makes unreadable for one key: every version older than
   * the one visible at `revision`, and that one too if it is a tombstone (or superseded by a
   * live version that is itself visible at `revision`).
   */
  compactKey(key: Uint8Array, revision: number): void {
    const old = [...this.t.hist.range(histPrefix(key), histKey(key, revision + 1))];
    if (old.length === 0) return;
    const live = this.t.kv.get(key);
    const keepLast =
      (live === undefined || live.modRevision > revision) && !isTombstone(old[old.length - 1]![1]);
    const drop = keepLast ? old.length - 1 : old.length;
    for (let i = 0; i < drop; i++) this.t.hist.delete(old[i]![0]);
  }
}
