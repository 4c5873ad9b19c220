// The file log's on-disk format. A segment file is named by the index of its first entry
// (20 zero-padded digits + ".log") and holds:
//
//   header   8 bytes   "DLOGSEG1"
//   records  one per entry, back to back:
//              crc32c  u32 LE   CRC32C of the 4 length bytes and the payload
//              length  u32 LE   payload length
//              payload          the protobuf encoding of a dengine.v1.Entry
//   zeros    any number: space written ahead of the records (file-log.ts, "Preallocation")
//
// Indexes are consecutive across records and segments; the scan checks that too, so a record
// whose checksum passes but sits in the wrong place is caught. Zeros are never a record (an
// empty payload's checksum is not zero), so where the bytes left are all zero the records end:
// that is the segment's clean end, not a torn write.
import type { Entry } from "@d-engine/core";
import { CodecError, decodeEntry, encodeEntryInto, entryEncodedSize } from "../codec.js";
import { crc32c } from "../crc.js";
import { corruptAt } from "../errors.js";
import { pad20 } from "./fs-util.js";

export const SEGMENT_MAGIC = Uint8Array.from("DLOGSEG1", (c) => c.charCodeAt(0));
export const SEGMENT_HEADER_BYTES = SEGMENT_MAGIC.length;
export const RECORD_HEADER_BYTES = 8;

export function segmentName(firstIndex: number): string {
  return `${pad20(firstIndex)}.log`;
}

/** The first index a segment file name carries, or undefined if it is not a segment name. */
export function parseSegmentName(name: string): number | undefined {
  const m = /^(\d{20})\.log$/.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** Encodes entries as consecutive records; offsets are where each record starts in `bytes`. */
export function encodeRecords(entries: readonly Entry[]): { bytes: Buffer; offsets: number[] } {
  let total = 0;
  const sizes = entries.map((e) => {
    const n = entryEncodedSize(e);
    total += RECORD_HEADER_BYTES + n;
    return n;
  });
  const bytes = Buffer.allocUnsafe(total);
  const offsets: number[] = new Array(entries.length);
  let pos = 0;
  for (let i = 0; i < entries.length; i++) {
    const len = sizes[i] as number;
    offsets[i] = pos;
    bytes.writeUInt32LE(len, pos + 4);
    encodeEntryInto(entries[i] as Entry, bytes, pos + RECORD_HEADER_BYTES);
    bytes.writeUInt32LE(crc32c(bytes.subarray(pos + 4, pos + RECORD_HEADER_BYTES + len)), pos);
    pos += RECORD_HEADER_BYTES + len;
  }
  return { bytes, offsets };
}

/** Why the record at a position cannot be read, or undefined if it checks out. */
function recordProblem(bytes: Uint8Array, pos: number, end: number): string | undefined {
  if (end - pos < RECORD_HEADER_BYTES) {
    return `incomplete record header (${end - pos} bytes left)`;
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset + pos, RECORD_HEADER_BYTES);
  const len = dv.getUint32(4, true);
  if (len > end - pos - RECORD_HEADER_BYTES) {
    return `record length ${len} runs past the end of the data (${end - pos - RECORD_HEADER_BYTES} bytes left)`;
  }
  const stored = dv.getUint32(0, true);
  const actual = crc32c(bytes.subarray(pos + 4, pos + RECORD_HEADER_BYTES + len));
  if (stored !== actual) return `checksum mismatch (stored ${stored}, computed ${actual})`;
  return undefined;
}

function recordLength(bytes: Uint8Array, pos: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset + pos + 4, 4).getUint32(0, true);
}

/**
 * Decodes the record at `pos` in `bytes` (which hold the file from `fileOffset` on), checking
 * its checksum; errors name `path` and the record's file offset.
 */
export function decodeRecord(
  bytes: Uint8Array,
  pos: number,
  path: string,
  fileOffset: number,
): { entry: Entry; next: number } {
  const problem = recordProblem(bytes, pos, bytes.length);
  if (problem) throw corruptAt(path, fileOffset + pos, problem);
  const len = recordLength(bytes, pos);
  const start = pos + RECORD_HEADER_BYTES;
  try {
    return { entry: decodeEntry(bytes, start, start + len), next: start + len };
  } catch (e) {
    if (!(e instanceof CodecError)) throw e;
    throw corruptAt(
      path,
      fileOffset + pos,
      `checksum passes but the entry does not decode: ${e.message}`,
    );
  }
}

/** Whether bytes[from, to) are all zero (preallocated space, never written, when `to` is the end). */
function allZero(bytes: Uint8Array, from: number, to = bytes.length): boolean {
  for (let p = from; p < to; p++) if (bytes[p] !== 0) return false;
  return true;
}

/** Whether a record that checks out starts anywhere in bytes[from, end). */
function validRecordFrom(bytes: Uint8Array, from: number): boolean {
  for (let p = from; p + RECORD_HEADER_BYTES <= bytes.length; p++) {
    // An all-zero header (length 0, checksum 0) never checks out: skips preallocated zeros fast.
    if (allZero(bytes, p, p + RECORD_HEADER_BYTES)) continue;
    if (recordLength(bytes, p) > bytes.length - p - RECORD_HEADER_BYTES) continue;
    if (recordProblem(bytes, p, bytes.length) === undefined) return true;
  }
  return false;
}

export interface ScannedSegment {
  /** File offsets of the records, in order. */
  readonly offsets: number[];
  /** Their terms. */
  readonly terms: number[];
  /** Where the valid records end (the file size, unless zeros or a torn tail follow). */
  readonly end: number;
  /** A torn write at the end of the last segment: where it starts and what is wrong. */
  readonly torn?: { readonly offset: number; readonly reason: string };
}

/**
 * Checks a segment's records. A damaged record in a segment that is not the last, or one that
 * valid records follow, is corruption: throws StorageError "corrupt" naming the file and offset.
 * A damaged record with nothing valid after it, in the last segment, is what a crash in the
 * middle of a write leaves: it is reported as `torn` for the caller to cut off.
 */
export function scanSegment(
  bytes: Uint8Array,
  path: string,
  firstIndex: number,
  isLast: boolean,
): ScannedSegment {
  const offsets: number[] = [];
  const terms: number[] = [];
  const torn = (offset: number, reason: string): ScannedSegment => {
    if (!isLast) {
      throw corruptAt(path, offset, `${reason}, in a segment that is not the last one`);
    }
    if (validRecordFrom(bytes, offset + 1)) {
      throw corruptAt(path, offset, `${reason}, and valid records follow: not a torn write`);
    }
    return { offsets, terms, end: offset, torn: { offset, reason } };
  };
  if (bytes.length < SEGMENT_HEADER_BYTES) {
    // A crash right after the file was created.
    if (!isLast)
      throw corruptAt(path, 0, `segment is ${bytes.length} bytes, shorter than its header`);
    return { offsets, terms, end: 0, torn: { offset: 0, reason: "incomplete segment header" } };
  }
  for (let i = 0; i < SEGMENT_HEADER_BYTES; i++) {
    if (bytes[i] !== SEGMENT_MAGIC[i]) throw corruptAt(path, 0, "not a log segment (bad magic)");
  }
  let pos = SEGMENT_HEADER_BYTES;
  let expected = firstIndex;
  while (pos < bytes.length) {
    if (allZero(bytes, pos)) break;
    const problem = recordProblem(bytes, pos, bytes.length);
    if (problem) return torn(pos, problem);
    const { entry, next } = decodeRecord(bytes, pos, path, 0);
    if (entry.index !== expected) {
      throw corruptAt(path, pos, `record holds index ${entry.index}, expected ${expected}`);
    }
    offsets.push(pos);
    terms.push(entry.term);
    pos = next;
    expected++;
  }
  return { offsets, terms, end: pos };
}
