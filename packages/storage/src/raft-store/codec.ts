// Where the core's types meet their protobuf encodings on disk (proto/dengine/v1/raft.proto): hard
// state and snapshot metadata through protobuf-es, log entries (the hot path, every record of the
// log) through the shared hand-written codec of @d-engine/proto/raft-codec, which also holds the
// bigint <-> number conversions.
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import type { HardState, SnapshotMetadata } from "@d-engine/core";
import { HardStateSchema, SnapshotMetadataSchema } from "@d-engine/proto";
import {
  snapshotMetadataFromProto,
  snapshotMetadataToProto,
  toSafeNumber,
} from "@d-engine/proto/raft-codec";

export {
  CodecError,
  decodeEntry,
  encodeEntry,
  encodeEntryInto,
  entryEncodedSize,
  toSafeNumber,
} from "@d-engine/proto/raft-codec";

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
  return toBinary(SnapshotMetadataSchema, snapshotMetadataToProto(m));
}

export function decodeSnapshotMetadata(bytes: Uint8Array): SnapshotMetadata {
  return snapshotMetadataFromProto(fromBinary(SnapshotMetadataSchema, bytes));
}
