// dengine.v1.Entry by hand: term = 1, index = 2, type = 3 (enum), data = 4 (bytes). Entries are
// the hot path of the log (every record) and of replication (every append), and protobuf-es
// spends about 6 µs per 256-byte entry each way by reflection. The bytes are exactly what
// toBinary(EntrySchema, ...) produces (tested on random entries); the decoder accepts any valid
// encoding (fields in any order, unknown fields skipped), so the schema stays the source of truth.
import { type Entry, EntryType } from "@d-engine/core";
import { CodecError } from "./errors.js";
import { checkU64 } from "./numbers.js";
import {
  bytesFieldSize,
  expectWire,
  ProtoReader,
  varintFieldSize,
  WIRE_LEN,
  WIRE_VARINT,
  writeBytesField,
  writeVarintField,
} from "./varint.js";

// Tags are (field number << 3) | wire type.
const TAG_TERM = 0x08;
const TAG_INDEX = 0x10;
const TAG_TYPE = 0x18;
const TAG_DATA = 0x22;

/** The size of `e`'s protobuf encoding. proto3 leaves out fields that hold their default. */
export function entryEncodedSize(e: Entry): number {
  checkU64(e.term, "entry term");
  checkU64(e.index, "entry index");
  return (
    varintFieldSize(e.term) +
    varintFieldSize(e.index) +
    varintFieldSize(e.type) +
    bytesFieldSize(e.data.length)
  );
}

/** Writes `e`'s encoding at `pos` (room for entryEncodedSize(e) bytes); returns the end. */
export function encodeEntryInto(e: Entry, buf: Uint8Array, pos: number): number {
  pos = writeVarintField(buf, pos, TAG_TERM, e.term);
  pos = writeVarintField(buf, pos, TAG_INDEX, e.index);
  pos = writeVarintField(buf, pos, TAG_TYPE, e.type);
  return writeBytesField(buf, pos, TAG_DATA, e.data);
}

export function encodeEntry(e: Entry): Uint8Array {
  const buf = new Uint8Array(entryEncodedSize(e));
  encodeEntryInto(e, buf, 0);
  return buf;
}

const EMPTY: Uint8Array = new Uint8Array(0);

/**
 * Decodes a dengine.v1.Entry from buf[start, end). With `copy` (the default) the entry's data is
 * a copy, for callers that reuse their buffers (log readers); without, a view into `buf`.
 */
export function decodeEntry(buf: Uint8Array, start = 0, end = buf.length, copy = true): Entry {
  const r = new ProtoReader(buf, start, end);
  let term = 0;
  let index = 0;
  let type = 0;
  let data = EMPTY;
  while (r.pos < r.end) {
    const tag = r.varint("entry tag");
    const wt = tag & 7;
    switch (tag >>> 3) {
      case 1:
        expectWire(wt, WIRE_VARINT, "entry term");
        term = r.varint("entry term");
        break;
      case 2:
        expectWire(wt, WIRE_VARINT, "entry index");
        index = r.varint("entry index");
        break;
      case 3:
        expectWire(wt, WIRE_VARINT, "entry type");
        type = r.varint("entry type");
        break;
      case 4:
        expectWire(wt, WIRE_LEN, "entry data");
        data = r.bytes("entry data");
        break;
      default:
        r.skip(wt, "entry");
    }
  }
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new CodecError(`unknown entry type ${type}`);
  }
  return { term, index, type, data: copy && data.length > 0 ? new Uint8Array(data) : data };
}
