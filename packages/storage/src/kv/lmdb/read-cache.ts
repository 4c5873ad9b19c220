// Recently read live keys of the kv table, kept in memory so that a read of a hot key costs a
// hash, a map lookup and a copy instead of an LMDB lookup (~1 µs here) and a decode: the in-process
// lease and eventual reads of embedded mode are mostly this (docs/benchmarks.md).
//
// Correctness rests on three rules, all enforced by LmdbTables:
// - every write to a kv key (put, insert, delete) forgets it, inside the write transaction;
// - nothing is remembered while a write transaction is open (it could still abort), and an
//   aborted transaction forgets everything;
// - clear() (a snapshot install) forgets everything.
// So an entry is always the committed live version of its key. Readers get a fresh object and a
// fresh copy of the value: what they do with it cannot reach the cache.
//
// Bounded by bytes (keys and values), with values over maxValueBytes never kept. When full it
// starts over: simple, and a hot set smaller than the budget stays in.
import type { KeyValue } from "../types.js";
import { copyOut } from "./slab.js";

interface Slot {
  readonly key: Uint8Array;
  readonly kv: KeyValue;
  next: Slot | undefined;
}

/** Bookkeeping per entry on top of its key and value (object headers, map slot). */
const ENTRY_OVERHEAD = 96;

export interface ReadCacheOptions {
  /** Bytes of keys and values kept at most (default 16 MiB; 0 turns the cache off). */
  readonly maxBytes?: number;
  /** Larger values are never kept (default 16 KiB). */
  readonly maxValueBytes?: number;
}

export const DEFAULT_READ_CACHE_BYTES = 16 * 1024 * 1024;
const DEFAULT_MAX_VALUE_BYTES = 16 * 1024;

export class KvReadCache {
  /** Hash of the key -> a chain of slots (collisions are compared byte by byte). */
  private readonly slots = new Map<number, Slot>();
  private bytes = 0;
  /** Set by LmdbTables while a write transaction is open: nothing is remembered meanwhile. */
  writing = false;
  readonly maxBytes: number;
  private readonly maxValueBytes: number;

  constructor(options: ReadCacheOptions = {}) {
    this.maxBytes = options.maxBytes ?? DEFAULT_READ_CACHE_BYTES;
    this.maxValueBytes = Math.min(options.maxValueBytes ?? DEFAULT_MAX_VALUE_BYTES, this.maxBytes);
  }

  /** The cached live version of `key` as a fresh object (its key is `key` itself), if kept. */
  get(key: Uint8Array): KeyValue | undefined {
    for (let s = this.slots.get(hashKey(key)); s !== undefined; s = s.next) {
      if (sameBytes(s.key, key)) {
        const kv = s.kv;
        return {
          key,
          createRevision: kv.createRevision,
          modRevision: kv.modRevision,
          version: kv.version,
          value: copyOut(kv.value, 0, kv.value.length),
          lease: kv.lease,
        };
      }
    }
    return undefined;
  }

  /** Keeps `kv`, just read from the committed table, as the live version of `key`. */
  remember(key: Uint8Array, kv: KeyValue): void {
    if (this.writing || kv.value.length > this.maxValueBytes) return;
    const size = key.length + kv.value.length + ENTRY_OVERHEAD;
    if (this.bytes + size > this.maxBytes) this.clear();
    if (size > this.maxBytes) return;
    const h = hashKey(key);
    const head = this.slots.get(h);
    for (let s = head; s !== undefined; s = s.next) if (sameBytes(s.key, key)) return;
    // Own copies: read results are views into shared slabs, which a long-lived entry would pin.
    const kept: KeyValue = {
      key: key.slice(),
      createRevision: kv.createRevision,
      modRevision: kv.modRevision,
      version: kv.version,
      value: kv.value.slice(),
      lease: kv.lease,
    };
    this.slots.set(h, { key: kept.key, kv: kept, next: head });
    this.bytes += size;
  }

  /** Drops `key` (it is being written). */
  forget(key: Uint8Array): void {
    const h = hashKey(key);
    let prev: Slot | undefined;
    for (let s = this.slots.get(h); s !== undefined; prev = s, s = s.next) {
      if (!sameBytes(s.key, key)) continue;
      if (prev !== undefined) prev.next = s.next;
      else if (s.next !== undefined) this.slots.set(h, s.next);
      else this.slots.delete(h);
      this.bytes -= s.key.length + s.kv.value.length + ENTRY_OVERHEAD;
      return;
    }
  }

  clear(): void {
    this.slots.clear();
    this.bytes = 0;
  }

  /** Bytes accounted to the entries kept (for tests and metrics). */
  get size(): number {
    return this.bytes;
  }
}

/** FNV-1a over the key's bytes (32 bits): a few nanoseconds for a short key. */
function hashKey(key: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ (key[i] as number), 0x01000193);
  return h | 0;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
