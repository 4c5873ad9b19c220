// CRC32C (Castagnoli), the checksum of snapshot frames: @node-rs/crc32's native code (the CPU's
// CRC32 instruction), as the Raft stores use, rather than a JS table loop. Kept as a module of the
// KV code so it does not depend on src/raft-store.
import { crc32c as nativeCrc32c } from "@node-rs/crc32";

/** The CRC32C of `data`, continuing from `crc` (the CRC of the bytes before it, or 0). */
export function crc32c(data: Uint8Array, crc = 0): number {
  return nativeCrc32c(data, crc) >>> 0;
}
