// Bytes and strings: keys and values are bytes; strings are UTF-8.
import type { Bytes } from "./types.js";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === "string" ? encoder.encode(b) : b;
}

/** Decodes UTF-8 (for values stored as strings). */
export function text(b: Uint8Array): string {
  return decoder.decode(b);
}

/** The range end that covers every key starting with `prefix` (etcd's convention). */
export function prefixEnd(prefix: Uint8Array): Uint8Array {
  const end = prefix.slice();
  for (let i = end.length - 1; i >= 0; i--) {
    if ((end[i] as number) < 0xff) {
      end[i] = (end[i] as number) + 1;
      return end.subarray(0, i + 1);
    }
  }
  // All 0xff (or empty): every key from the prefix on.
  return new Uint8Array([0]);
}
