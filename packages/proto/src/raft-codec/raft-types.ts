// The core's membership and snapshot types and their generated protobuf messages.
import { create } from "@bufbuild/protobuf";
import type { ConfState, SnapshotMetadata } from "@d-engine/core";
import {
  ConfStateSchema,
  type ConfState as PbConfState,
  type SnapshotMetadata as PbSnapshotMetadata,
  SnapshotMetadataSchema,
} from "../gen/dengine/v1/raft_pb.js";
import { CodecError } from "./errors.js";
import { toSafeNumber } from "./numbers.js";

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

export function snapshotMetadataToProto(m: SnapshotMetadata): PbSnapshotMetadata {
  return create(SnapshotMetadataSchema, {
    index: BigInt(m.index),
    term: BigInt(m.term),
    confState: confStateToProto(m.confState),
  });
}

export function snapshotMetadataFromProto(m: PbSnapshotMetadata | undefined): SnapshotMetadata {
  if (!m) throw new CodecError("snapshot metadata is missing");
  return {
    index: toSafeNumber(m.index, "snapshot index"),
    term: toSafeNumber(m.term, "snapshot term"),
    confState: confStateFromProto(m.confState),
  };
}
