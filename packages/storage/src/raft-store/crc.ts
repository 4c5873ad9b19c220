// CRC32C (Castagnoli), the checksum of every log record, hard-state slot and snapshot. It comes
// from @node-rs/crc32 (prebuilt native code using the CPU's CRC32 instruction) rather than a
// hand-written table: it is faster and someone else keeps it correct.
import { crc32c as nativeCrc32c } from "@node-rs/crc32";

/**
 * The CRC32C of `data`, continuing from `seed` (the CRC of the bytes before it), so that
 * crc32c(b, crc32c(a)) === crc32c(a followed by b). Always an unsigned 32-bit integer.
 */
export function crc32c(data: Uint8Array, seed = 0): number {
  return nativeCrc32c(data, seed) >>> 0;
}
