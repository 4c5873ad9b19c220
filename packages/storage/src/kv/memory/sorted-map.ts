// An ordered map keyed by bytes: a list of sorted chunks of at most CHUNK entries. Lookups are two
// binary searches (over chunk first keys, then inside a chunk); an insert moves at most one chunk's
// entries, so random inserts into a million keys stay cheap, unlike one big sorted array.

import { compareBytes } from "../bytes.js";

const CHUNK = 512;

interface Chunk<V> {
  keys: Uint8Array[];
  vals: V[];
}

/** The first index in `keys` whose key is >= `key`. */
function lowerBound(keys: readonly Uint8Array[], key: Uint8Array): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareBytes(keys[mid] as Uint8Array, key) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class SortedMap<V> {
  private chunks: Chunk<V>[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** The chunk that holds `key` or would: the last one whose first key is <= key (or the first). */
  private chunkFor(key: Uint8Array): number {
    let lo = 0;
    let hi = this.chunks.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >>> 1;
      if (compareBytes((this.chunks[mid] as Chunk<V>).keys[0] as Uint8Array, key) <= 0) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  get(key: Uint8Array): V | undefined {
    if (this.chunks.length === 0) return undefined;
    const c = this.chunks[this.chunkFor(key)] as Chunk<V>;
    const i = lowerBound(c.keys, key);
    const k = c.keys[i];
    return k !== undefined && compareBytes(k, key) === 0 ? c.vals[i] : undefined;
  }

  set(key: Uint8Array, value: V): void {
    if (this.chunks.length === 0) {
      this.chunks.push({ keys: [key], vals: [value] });
      this.count = 1;
      return;
    }
    const ci = this.chunkFor(key);
    const c = this.chunks[ci] as Chunk<V>;
    const i = lowerBound(c.keys, key);
    const k = c.keys[i];
    if (k !== undefined && compareBytes(k, key) === 0) {
      c.vals[i] = value;
      return;
    }
    if (i === c.keys.length) {
      c.keys.push(key);
      c.vals.push(value);
    } else {
      c.keys.splice(i, 0, key);
      c.vals.splice(i, 0, value);
    }
    this.count++;
    if (c.keys.length > CHUNK) {
      const half = c.keys.length >>> 1;
      this.chunks.splice(ci + 1, 0, { keys: c.keys.splice(half), vals: c.vals.splice(half) });
    }
  }

  delete(key: Uint8Array): boolean {
    if (this.chunks.length === 0) return false;
    const ci = this.chunkFor(key);
    const c = this.chunks[ci] as Chunk<V>;
    const i = lowerBound(c.keys, key);
    const k = c.keys[i];
    if (k === undefined || compareBytes(k, key) !== 0) return false;
    c.keys.splice(i, 1);
    c.vals.splice(i, 1);
    this.count--;
    if (c.keys.length === 0) this.chunks.splice(ci, 1);
    return true;
  }

  clear(): void {
    this.chunks = [];
    this.count = 0;
  }

  /** [chunk, index] of the first entry >= key (may be one past the last entry). */
  private seek(key: Uint8Array): [number, number] {
    if (this.chunks.length === 0) return [0, 0];
    const ci = this.chunkFor(key);
    const c = this.chunks[ci] as Chunk<V>;
    const i = lowerBound(c.keys, key);
    return i < c.keys.length ? [ci, i] : [ci + 1, 0];
  }

  /** Entries with start <= key < end (end undefined: no bound), ascending or descending. */
  *range(
    start: Uint8Array,
    end: Uint8Array | undefined,
    reverse = false,
  ): Generator<readonly [Uint8Array, V]> {
    if (end !== undefined && compareBytes(end, start) <= 0) return;
    if (!reverse) {
      let [ci, i] = this.seek(start);
      for (; ci < this.chunks.length; ci++, i = 0) {
        const c = this.chunks[ci] as Chunk<V>;
        for (; i < c.keys.length; i++) {
          const k = c.keys[i] as Uint8Array;
          if (end !== undefined && compareBytes(k, end) >= 0) return;
          yield [k, c.vals[i] as V];
        }
      }
      return;
    }
    // Descending: from the last entry below `end` down to `start`.
    let ci: number;
    let i: number;
    if (end === undefined) {
      ci = this.chunks.length - 1;
      i = ci >= 0 ? (this.chunks[ci] as Chunk<V>).keys.length - 1 : -1;
    } else {
      const [sc, si] = this.seek(end);
      if (si > 0) {
        ci = sc;
        i = si - 1;
      } else {
        ci = sc - 1;
        i = ci >= 0 ? (this.chunks[ci] as Chunk<V>).keys.length - 1 : -1;
      }
    }
    for (; ci >= 0; ci--) {
      const c = this.chunks[ci] as Chunk<V>;
      if (i < 0) i = c.keys.length - 1;
      for (; i >= 0; i--) {
        const k = c.keys[i] as Uint8Array;
        if (compareBytes(k, start) < 0) return;
        yield [k, c.vals[i] as V];
      }
    }
  }

  /** The number of entries with start <= key < end. */
  countRange(start: Uint8Array, end: Uint8Array | undefined): number {
    if (end !== undefined && compareBytes(end, start) <= 0) return 0;
    return this.rank(end) - this.rank(start);
  }

  /** The number of entries below `key` (all of them for undefined). */
  private rank(key: Uint8Array | undefined): number {
    if (key === undefined) return this.count;
    const [ci, i] = this.seek(key);
    let n = i;
    for (let c = 0; c < ci; c++) n += (this.chunks[c] as Chunk<V>).keys.length;
    return n;
  }
}
