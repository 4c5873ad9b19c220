// The bytes of a key a read looks up. Keys usually arrive as short ASCII strings, and
// TextEncoder.encode costs several times more per call than the rest of an in-process read's
// bookkeeping (a native call and a fresh buffer each time; measured ~0.7 µs against ~0.08 µs
// for the loop below on an 8-byte key). ASCII is its own UTF-8, so the loop gives exactly the
// bytes toBytes would; anything else (or a long string) goes to toBytes.
import { type Bytes, toBytes } from "@d-engine/client";

/** Longer strings gain little from the loop; TextEncoder's per-call cost no longer dominates. */
const MAX_LOOP = 64;

export function keyBytes(key: Bytes): Uint8Array {
  if (typeof key !== "string" || key.length > MAX_LOOP) return toBytes(key);
  const n = key.length;
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c > 0x7f) return toBytes(key);
    out[i] = c;
  }
  return out;
}
