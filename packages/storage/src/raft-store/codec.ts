// The one place where the core's types meet their protobuf encodings (proto/dengine/v1/raft.proto).
// protobuf-es generates bigint for uint64 fields while the core keeps indexes, terms and node ids
// as safe-integer numbers; the conversions below check that nothing is lost on the way back.
//
// Log entries are the hot path (every record of the log, every append), so they are encoded and
// decoded by hand here: protobuf-es spends about 6 µs per 256-byte entry each way, which alone
// would cap the file log near 160,000 entries/s. The bytes are exactly what
// toBinary(EntrySchema, ...) produces (codec.test.ts checks that on random entries), and the
// decoder accepts any valid encoding (fields in any order, unknown fields skipped), so the
// schema stays the source of truth.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import {
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  type SnapshotMetadata,
} from "@d-engine/core";
import {
  ConfStateSchema,
  HardStateSchema,
  type ConfState as PbConfState,
  SnapshotMetadataSchema,
} from "@d-engine/proto";

/** A uint64 from the wire as a number; throws if it is not a safe integer. */
export function toSafeNumber(v: bigint, what: string): number {
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`${what} ${v} is larger than 2^53 - 1`);
  }
  return Number(v);
}

const ids = (vs: readonly bigint[], what: string): number[] => vs.map((v) => toSafeNumber(v, what));

export function confStateToProto(cs: ConfState): PbConfState {
  return create(ConfStateSchema, {
    voters: cs.voters.map(BigInt),
    learners: cs.learners.map(BigInt),
    votersOutgoing: cs.votersOutgoing.map(BigInt),
    learnersNext: cs.learnersNext.map(BigInt),
    autoLeave: cs.autoLeave,
  });
}

export function confStateFromProto(cs: PbConfState | undefined): ConfState {
  return {
    voters: ids(cs?.voters ?? [], "voter id"),
    learners: ids(cs?.learners ?? [], "learner id"),
    votersOutgoing: ids(cs?.votersOutgoing ?? [], "outgoing voter id"),
    learnersNext: ids(cs?.learnersNext ?? [], "next learner id"),
    autoLeave: cs?.autoLeave ?? false,
  };
}

export function encodeHardState(hs: HardState): Uint8Array {
  return toBinary(
    HardStateSchema,
    create(HardStateSchema, {
      term: BigInt(hs.term),
      vote: BigInt(hs.vote),
      commit: BigInt(hs.commit),
    }),
  );
}

export function decodeHardState(bytes: Uint8Array): HardState {
  const pb = fromBinary(HardStateSchema, bytes);
  return {
    term: toSafeNumber(pb.term, "term"),
    vote: toSafeNumber(pb.vote, "vote"),
    commit: toSafeNumber(pb.commit, "commit"),
  };
}

export function encodeSnapshotMetadata(m: SnapshotMetadata): Uint8Array {
  return toBinary(
    SnapshotMetadataSchema,
    create(SnapshotMetadataSchema, {
      index: BigInt(m.index),
      term: BigInt(m.term),
      confState: confStateToProto(m.confState),
    }),
  );
}

export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  const pb = fromBinary(SnapshotMetadataSchema, bytes);
  return {
    index: toSafeNumber(pb.index, "snapshot index"),
    term: toSafeNumber(pb.term, "snapshot term"),
    confState: confStateFromProto(pb.confState),
  };
}

// --- Entry (dengine.v1.Entry): term = 1, index = 2, type = 3 (enum), data = 4 (bytes) ---

// Tags are (field number << 3) | wire type: 0 = varint, 2 = length-delimited.
const TAG_TERM = 0x08;
const TAG_INDEX = 0x10;
const TAG_TYPE = 0x18;
const TAG_DATA = 0x22;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 0x80) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

function writeVarint(buf: Uint8Array, pos: number, v: number): number {
  // Numbers up to 2^53 do not fit bitwise operators, hence % and division above 2^31.
  while (v >= 0x80) {
    buf[pos++] = v < 0x80000000 ? (v & 0x7f) | 0x80 : (v % 128) | 0x80;
    v = v < 0x80000000 ? v >>> 7 : Math.floor(v / 128);
  }
  buf[pos++] = v;
  return pos;
}

function checkEntry(e: Entry): void {
  if (
    !Number.isSafeInteger(e.term) ||
    e.term < 0 ||
    !Number.isSafeInteger(e.index) ||
    e.index < 0
  ) {
    throw new RangeError(`entry term ${e.term} / index ${e.index}: not non-negative safe integers`);
  }
}

/** The size of `e`'s protobuf encoding. proto3 leaves out fields that hold their default. */
export function entryEncodedSize(e: Entry): number {
  checkEntry(e);
  let n = 0;
  if (e.term !== 0) n += 1 + varintSize(e.term);
  if (e.index !== 0) n += 1 + varintSize(e.index);
  if (e.type !== 0) n += 1 + varintSize(e.type);
  if (e.data.length !== 0) n += 1 + varintSize(e.data.length) + e.data.length;
  return n;
}

/** Writes `e`'s protobuf encoding at `pos` (room for entryEncodedSize(e) bytes); returns the end. */
export function encodeEntryInto(e: Entry, buf: Uint8Array, pos: number): number {
  if (e.term !== 0) {
    buf[pos] = TAG_TERM;
    pos = writeVarint(buf, pos + 1, e.term);
  }
  if (e.index !== 0) {
    buf[pos] = TAG_INDEX;
    pos = writeVarint(buf, pos + 1, e.index);
  }
  if (e.type !== 0) {
    buf[pos] = TAG_TYPE;
    pos = writeVarint(buf, pos + 1, e.type);
  }
  if (e.data.length !== 0) {
    buf[pos] = TAG_DATA;
    pos = writeVarint(buf, pos + 1, e.data.length);
    buf.set(e.data, pos);
    pos += e.data.length;
  }
  return pos;
}

export function encodeEntry(e: Entry): Uint8Array {
  const buf = new Uint8Array(entryEncodedSize(e));
  encodeEntryInto(e, buf, 0);
  return buf;
}

/** Thrown for bytes that are not a valid dengine.v1.Entry; callers add the file and offset. */
export class EntryDecodeError extends Error {
  override name = "EntryDecodeError";
}

/** Decodes a dengine.v1.Entry. The entry's data is a copy, not a view into `buf`. */
export function decodeEntry(buf: Uint8Array, start = 0, end = buf.length): Entry {
  let pos = start;
  const varint = (): number => {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) throw new EntryDecodeError("truncated varint");
      const b = buf[pos++] as number;
      v += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (v > Number.MAX_SAFE_INTEGER) throw new EntryDecodeError("varint beyond 2^53 - 1");
        return v;
      }
      mul *= 128;
    }
    throw new EntryDecodeError("varint longer than 10 bytes");
  };
  let term = 0;
  let index = 0;
  let type = 0;
  let data = new Uint8Array(0);
  while (pos < end) {
    const tag = varint();
    const wire = tag % 8;
    if (tag === TAG_TERM) term = varint();
    else if (tag === TAG_INDEX) index = varint();
    else if (tag === TAG_TYPE) type = varint();
    else if (tag === TAG_DATA) {
      const len = varint();
      if (len > end - pos) throw new EntryDecodeError(`data length ${len} runs past the record`);
      // A copy (Buffer#slice would share memory with buf, which readers reuse).
      data = new Uint8Array(buf.subarray(pos, pos + len));
      pos += len;
    } else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 2) {
      const len = varint(); // (not `pos += varint()`: that would read pos before varint moves it)
      pos += len;
    } else if (wire === 5) pos += 4;
    else throw new EntryDecodeError(`unsupported wire type ${wire} (tag ${tag})`);
    if (pos > end) throw new EntryDecodeError("field runs past the record");
  }
  if (type !== EntryType.Normal && type !== EntryType.ConfChange) {
    throw new EntryDecodeError(`unknown entry type ${type}`);
  }
  return { term, index, type, data };
}
