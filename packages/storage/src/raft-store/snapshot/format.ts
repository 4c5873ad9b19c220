// The encoded snapshot: one self-checking byte string, stored as a file and streamed as is.
//
//   [0, 8)      magic "DSNAPv01"
//   [8, 12)     metadata length M (u32 LE)
//   [12, 20)    data length D (u64 LE)
//   [20, 24)    CRC32C of bytes [0, 20) and the metadata
//   [24, 24+M)  metadata: protobuf dengine.v1.SnapshotMetadata (index, term, ConfState)
//   then D bytes of state machine data, then the CRC32C of the data (u32 LE).
import type { SnapshotMetadata } from "@d-engine/core";
import { decodeSnapshotMetadata, encodeSnapshotMetadata } from "../codec.js";
import { crc32c } from "../crc.js";
import { corruptAt, StorageError } from "../errors.js";

const MAGIC = Uint8Array.from("DSNAPv01", (c) => c.charCodeAt(0));
/** Bytes before the metadata. */
export const FIXED_HEADER_BYTES = 24;
export const TRAILER_BYTES = 4;
/** Metadata larger than this is taken for a damaged length field. */
const MAX_METADATA_BYTES = 64 * 1024 * 1024;

export interface SnapshotHeader {
  readonly metadata: SnapshotMetadata;
  /** Header size: where the data starts. */
  readonly headerBytes: number;
  readonly dataBytes: number;
  /** Size of the whole encoding. */
  readonly encodedBytes: number;
}

export function encodeHeader(metadata: SnapshotMetadata, dataBytes: number): Uint8Array {
  const meta = encodeSnapshotMetadata(metadata);
  const out = new Uint8Array(FIXED_HEADER_BYTES + meta.length);
  const dv = new DataView(out.buffer);
  out.set(MAGIC, 0);
  dv.setUint32(8, meta.length, true);
  dv.setUint32(12, dataBytes % 0x100000000, true);
  dv.setUint32(16, Math.floor(dataBytes / 0x100000000), true);
  out.set(meta, FIXED_HEADER_BYTES);
  dv.setUint32(20, crc32c(meta, crc32c(out.subarray(0, 20))), true);
  return out;
}

export function encodeTrailer(dataCrc: number): Uint8Array {
  const out = new Uint8Array(TRAILER_BYTES);
  new DataView(out.buffer).setUint32(0, dataCrc, true);
  return out;
}

/** How many header bytes the prefix `bytes` announces, or undefined if fewer than 24 are there. */
export function headerLength(bytes: Uint8Array, where: string): number | undefined {
  if (bytes.length < FIXED_HEADER_BYTES) return undefined;
  for (let i = 0; i < MAGIC.length; i++) {
    if (bytes[i] !== MAGIC[i]) throw corruptAt(where, 0, "not a snapshot (bad magic)");
  }
  const metaLen = new DataView(bytes.buffer, bytes.byteOffset, FIXED_HEADER_BYTES).getUint32(
    8,
    true,
  );
  if (metaLen > MAX_METADATA_BYTES) {
    throw corruptAt(where, 8, `metadata length ${metaLen} is implausible`);
  }
  return FIXED_HEADER_BYTES + metaLen;
}

/** Parses and verifies a header; `bytes` holds at least headerLength() bytes. */
export function decodeHeader(bytes: Uint8Array, where: string): SnapshotHeader {
  const headerBytes = headerLength(bytes, where);
  if (headerBytes === undefined || bytes.length < headerBytes) {
    throw corruptAt(where, 0, `header incomplete (${bytes.length} bytes)`);
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, FIXED_HEADER_BYTES);
  const meta = bytes.subarray(FIXED_HEADER_BYTES, headerBytes);
  const crc = crc32c(meta, crc32c(bytes.subarray(0, 20)));
  if (crc !== dv.getUint32(20, true)) {
    throw corruptAt(
      where,
      20,
      `header checksum mismatch (stored ${dv.getUint32(20, true)}, computed ${crc})`,
    );
  }
  const dataBytes = dv.getUint32(12, true) + dv.getUint32(16, true) * 0x100000000;
  let metadata: SnapshotMetadata;
  try {
    metadata = decodeSnapshotMetadata(meta);
  } catch (e) {
    throw corruptAt(where, FIXED_HEADER_BYTES, `metadata does not decode: ${String(e)}`);
  }
  return {
    metadata,
    headerBytes,
    dataBytes,
    encodedBytes: headerBytes + dataBytes + TRAILER_BYTES,
  };
}

/** Encodes a whole snapshot (header, data, checksum) as the list of its parts. */
export function encodeSnapshot(metadata: SnapshotMetadata, data: Uint8Array): Uint8Array[] {
  return [encodeHeader(metadata, data.length), data, encodeTrailer(crc32c(data))];
}

/**
 * Checks an encoded snapshot as it streams past in chunks: the header, the data checksum and the
 * total length. Used by the sender (chunks()) and by the receiving writer alike.
 */
export class SnapshotVerifier {
  private head: Uint8Array[] = [];
  private headLen = 0;
  private header: SnapshotHeader | undefined;
  private pos = 0;
  private crc = 0;
  private readonly trailer = new Uint8Array(TRAILER_BYTES);

  constructor(private readonly where: string) {}

  /** The header, once enough bytes have passed. */
  parsed(): SnapshotHeader | undefined {
    return this.header;
  }

  update(chunk: Uint8Array): void {
    if (!this.header) {
      this.head.push(chunk);
      this.headLen += chunk.length;
      const prefix = concat(this.head, this.headLen);
      const need = headerLength(prefix, this.where);
      if (need === undefined || prefix.length < need) return;
      this.header = decodeHeader(prefix.subarray(0, need), this.where);
      this.head = [];
      this.feed(prefix, 0);
      return;
    }
    this.feed(chunk, this.pos);
  }

  /** Verifies what has passed; returns the header and the data's checksum. */
  finish(): { header: SnapshotHeader; dataCrc: number } {
    const h = this.header;
    if (!h) throw corruptAt(this.where, 0, `ends after ${this.headLen} bytes, inside its header`);
    if (this.pos !== h.encodedBytes) {
      throw corruptAt(
        this.where,
        Math.min(this.pos, h.encodedBytes),
        `is ${this.pos} bytes long, its header says ${h.encodedBytes}`,
      );
    }
    const stored = new DataView(this.trailer.buffer).getUint32(0, true);
    if (stored !== this.crc) {
      throw new SnapshotChecksumError(this.where, h.headerBytes, stored, this.crc);
    }
    return { header: h, dataCrc: this.crc };
  }

  /** Accounts for `bytes`, which start at encoded position `at` (== this.pos). */
  private feed(bytes: Uint8Array, at: number): void {
    const h = this.header as SnapshotHeader;
    const dataStart = h.headerBytes;
    const dataEnd = dataStart + h.dataBytes;
    const end = at + bytes.length;
    const ds = Math.max(at, dataStart);
    const de = Math.min(end, dataEnd);
    if (de > ds) this.crc = crc32c(bytes.subarray(ds - at, de - at), this.crc);
    const ts = Math.max(at, dataEnd);
    const te = Math.min(end, dataEnd + TRAILER_BYTES);
    if (te > ts) this.trailer.set(bytes.subarray(ts - at, te - at), ts - dataEnd);
    this.pos = end;
  }
}

/** The data of a snapshot does not match its checksum. */
export class SnapshotChecksumError extends StorageError {
  constructor(where: string, dataOffset: number, stored: number, computed: number) {
    super(
      "snapshot-checksum",
      `${where}: snapshot data checksum mismatch (stored ${stored}, computed ${computed}; data starts at byte offset ${dataOffset})`,
      where,
      dataOffset,
    );
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0] as Uint8Array;
  const out = new Uint8Array(total);
  let p = 0;
  for (const x of parts) {
    out.set(x, p);
    p += x.length;
  }
  return out;
}
