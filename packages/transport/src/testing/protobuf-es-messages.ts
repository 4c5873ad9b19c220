// The reference for the hand-written message codec: core messages <-> dengine.v1.Message through
// protobuf-es objects. Tests compare the hand-written bytes with toBinary of these.
import { create } from "@bufbuild/protobuf";
import type { Entry, Message, MessageType } from "@d-engine/core";
import {
  EntrySchema,
  MessageSchema,
  type Entry as PbEntry,
  type Message as PbMessage,
  SnapshotSchema,
} from "@d-engine/proto";
import {
  snapshotMetadataFromProto,
  snapshotMetadataToProto,
  toSafeNumber,
} from "@d-engine/proto/raft-codec";

export function messageToProto(m: Message): PbMessage {
  return create(MessageSchema, {
    type: m.type as number,
    to: BigInt(m.to),
    from: BigInt(m.from),
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.map((e) =>
      create(EntrySchema, {
        term: BigInt(e.term),
        index: BigInt(e.index),
        type: e.type as number,
        data: e.data,
      }),
    ),
    commit: BigInt(m.commit),
    ...(m.snapshot
      ? {
          snapshot: create(SnapshotSchema, {
            metadata: snapshotMetadataToProto(m.snapshot.metadata),
            data: m.snapshot.data,
          }),
        }
      : {}),
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context,
  });
}

const entryFromProto = (e: PbEntry): Entry => ({
  term: toSafeNumber(e.term, "entry term"),
  index: toSafeNumber(e.index, "entry index"),
  type: e.type as number,
  data: e.data,
});

export function messageFromProto(m: PbMessage): Message {
  return {
    type: m.type as number as MessageType,
    to: toSafeNumber(m.to, "to"),
    from: toSafeNumber(m.from, "from"),
    term: toSafeNumber(m.term, "term"),
    logTerm: toSafeNumber(m.logTerm, "log term"),
    index: toSafeNumber(m.index, "index"),
    entries: m.entries.map(entryFromProto),
    commit: toSafeNumber(m.commit, "commit"),
    ...(m.snapshot
      ? {
          snapshot: {
            metadata: snapshotMetadataFromProto(m.snapshot.metadata),
            data: m.snapshot.data,
          },
        }
      : {}),
    reject: m.reject,
    rejectHint: toSafeNumber(m.rejectHint, "reject hint"),
    context: m.context,
  };
}
