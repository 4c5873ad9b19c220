// Byte helpers shared by the KV state machine: ordering, etcd's range-end conventions, fixed-width
// big-endian integers (so table keys sort numerically) and UTF-8.

export const EMPTY: Uint8Array = new Uint8Array(0);

/** Lexicographic byte order: negative if a < b, 0 if equal, positive if a > b. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/**
 * The range end that covers every key starting with `prefix` (etcd's GetPrefixRangeEnd): the
 * prefix with its last byte below 0xff incremented and what follows dropped; "\0" (every key)
 * when the prefix is empty or all 0xff.
 */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if ((prefix[i] as number) < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = (end[i] as number) + 1;
      return end;
    }
  }
  return Uint8Array.of(0);
}

/**
 * The exclusive upper bound of [key, rangeEnd) with etcd's conventions, as a table bound:
 * `null` for a single key (rangeEnd empty), `undefined` for "no upper bound" (rangeEnd "\0").
 */
export function rangeBound(rangeEnd: Uint8Array | undefined): Uint8Array | null | undefined {
  if (rangeEnd === undefined || rangeEnd.length === 0) return null;
  if (rangeEnd.length === 1 && rangeEnd[0] === 0) return undefined;
  return rangeEnd;
}

/** `n` (a safe non-negative integer) as 8 big-endian bytes written at `off`. */
export function writeU64(out: Uint8Array, off: number, n: number): void {
  const hi = Math.floor(n / 0x100000000);
  const lo = n >>> 0;
  out[off] = hi >>> 24;
  out[off + 1] = (hi >>> 16) & 0xff;
  out[off + 2] = (hi >>> 8) & 0xff;
  out[off + 3] = hi & 0xff;
  out[off + 4] = lo >>> 24;
  out[off + 5] = (lo >>> 16) & 0xff;
  out[off + 6] = (lo >>> 8) & 0xff;
  out[off + 7] = lo & 0xff;
}

export function readU64(b: Uint8Array, off: number): number {
  const hi =
    (((b[off] as number) << 24) >>> 0) +
    ((b[off + 1] as number) << 16) +
    ((b[off + 2] as number) << 8) +
    (b[off + 3] as number);
  const lo =
    (((b[off + 4] as number) << 24) >>> 0) +
    ((b[off + 5] as number) << 16) +
    ((b[off + 6] as number) << 8) +
    (b[off + 7] as number);
  return hi * 0x100000000 + lo;
}

/** 8 big-endian bytes, so numbers sort as table keys. */
export function u64Key(n: number): Uint8Array {
  const out = new Uint8Array(8);
  writeU64(out, 0, n);
  return out;
}

/** Two u64s, big-endian: for (time, id) style index keys. */
export function u64PairKey(a: number, b: number): Uint8Array {
  const out = new Uint8Array(16);
  writeU64(out, 0, a);
  writeU64(out, 8, b);
  return out;
}

/** A u64 followed by arbitrary bytes. */
export function u64PrefixedKey(n: number, rest: Uint8Array): Uint8Array {
  const out = new Uint8Array(8 + rest.length);
  writeU64(out, 0, n);
  out.set(rest, 8);
  return out;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: false });

export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

export function fromUtf8(b: Uint8Array): string {
  return decoder.decode(b);
}

/** Bytes for test and log output: printable ASCII as is, other bytes as \xNN. */
export function showBytes(b: Uint8Array): string {
  let s = "";
  for (const c of b)
    s += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : `\\x${c.toString(16).padStart(2, "0")}`;
  return s;
}
