// A small file holding one checksummed payload: magic (4 bytes), payload length (u32), CRC32C of
// the payload (u32), payload. Used for the log's compaction marker, which is written atomically
// (fs-util writeFileAtomic); a damaged one is an error, never silently ignored.
import { crc32c } from "../crc.js";
import { corruptAt } from "../errors.js";

const HEADER = 12;

export function encodeBlob(magic: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(HEADER + payload.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, magic, true);
  dv.setUint32(4, payload.length, true);
  dv.setUint32(8, crc32c(payload), true);
  out.set(payload, HEADER);
  return out;
}

/** The payload of an encoded blob; throws StorageError "corrupt" naming `path` if it is damaged. */
export function decodeBlob(magic: number, bytes: Uint8Array, path: string): Uint8Array {
  if (bytes.length < HEADER) {
    throw corruptAt(
      path,
      0,
      `file is ${bytes.length} bytes, shorter than its ${HEADER}-byte header`,
    );
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (dv.getUint32(0, true) !== magic) throw corruptAt(path, 0, "bad magic number");
  const len = dv.getUint32(4, true);
  if (HEADER + len !== bytes.length) {
    throw corruptAt(path, 4, `payload length ${len} does not match the file size ${bytes.length}`);
  }
  const payload = bytes.subarray(HEADER);
  const crc = crc32c(payload);
  if (crc !== dv.getUint32(8, true)) {
    throw corruptAt(
      path,
      HEADER,
      `checksum mismatch (stored ${dv.getUint32(8, true)}, computed ${crc})`,
    );
  }
  return payload;
}
