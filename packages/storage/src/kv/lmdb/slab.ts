// Copies of bytes read from LMDB, carved out of 64 KiB slabs. lmdb-js hands out one shared read
// buffer, so everything kept must be copied; a fresh ArrayBuffer per copy costs ~1 µs (values
// over 64 bytes live outside the V8 heap), a view into a slab a tenth of that. A kept copy pins
// its slab: fine for read results and records on their way to a write, which is what these are.

const SLAB_BYTES = 64 * 1024;
/** Larger copies get their own buffer. */
const MAX_SLAB_COPY = 4096;

let slabBuffer = new ArrayBuffer(SLAB_BYTES);
let used = 0;

const EMPTY = new Uint8Array(0);
const bufferCopy = Buffer.prototype.copy;

/** A plain Uint8Array holding src[start, end). */
export function copyOut(src: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n === 0) return EMPTY;
  let out: Uint8Array;
  if (n > MAX_SLAB_COPY) {
    out = new Uint8Array(n);
  } else {
    if (used + n > SLAB_BYTES) {
      slabBuffer = new ArrayBuffer(SLAB_BYTES);
      used = 0;
    }
    // The constructor, not slab.subarray: subarray's species lookup costs ~100 ns more.
    out = new Uint8Array(slabBuffer, used, n);
    used += n;
  }
  if (n <= 32) {
    // Short keys: a loop beats the argument checks of Buffer#copy.
    for (let i = 0; i < n; i++) out[i] = src[start + i] as number;
  } else if (Buffer.isBuffer(src)) {
    bufferCopy.call(src, out, 0, start, end);
  } else if (start === 0 && end === src.length) {
    out.set(src);
  } else {
    out.set(src.subarray(start, end));
  }
  return out;
}
