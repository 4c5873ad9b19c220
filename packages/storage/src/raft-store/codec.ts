// Where the core's types meet their protobuf encodings on disk (proto/dengine/v1/raft.proto):
// snapshot metadata and decoding a hard state through protobuf-es; log entries (the hot path,
// every record of the log) through the shared hand-written codec of @d-engine/proto/raft-codec,
// which also holds the bigint <-> number conversions; encoding a hard state by hand (below).
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import type { HardState, SnapshotMetadata } from "@d-engine/core";
import { HardStateSchema, SnapshotMetadataSchema } from "@d-engine/proto";
import {
  checkU64,
  snapshotMetadataFromProto,
  snapshotMetadataToProto,
  toSafeNumber,
  varintFieldSize,
  writeVarintField,
} from "@d-engine/proto/raft-codec";

export {
  CodecError,
  decodeEntry,
  encodeEntry,
  encodeEntryInto,
  entryEncodedSize,
  toSafeNumber,
} from "@d-engine/proto/raft-codec";

// dengine.v1.HardState's tags: term = 1, vote = 2, commit = 3, all varints.
const TAG_TERM = 0x08;
const TAG_VOTE = 0x10;
const TAG_COMMIT = 0x18;

/**
 * A hard state's protobuf bytes, written by hand: every follower saves one per Ready, and
 * protobuf-es's toBinary (three uint64 fields through bigint) took ~20 µs of each save in a
 * follower's CPU profile. The bytes are toBinary's exactly (codec.test.ts compares them).
 */
export function encodeHardState(hs: HardState): Uint8Array {
  checkU64(hs.term, "hard state term");
  checkU64(hs.vote, "hard state vote");
  checkU64(hs.commit, "hard state commit");
  const buf = new Uint8Array(
    varintFieldSize(hs.term) + varintFieldSize(hs.vote) + varintFieldSize(hs.commit),
  );
  let pos = writeVarintField(buf, 0, TAG_TERM, hs.term);
  pos = writeVarintField(buf, pos, TAG_VOTE, hs.vote);
  writeVarintField(buf, pos, TAG_COMMIT, hs.commit);
  return buf;
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
  return toBinary(SnapshotMetadataSchema, snapshotMetadataToProto(m));
}

export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return snapshotMetadataFromProto(fromBinary(SnapshotMetadataSchema, bytes));
}
