// Core Raft messages <-> dengine.v1.Message. The core keeps terms, indexes and ids as safe-integer
// numbers; protobuf-es generates bigint for uint64, so every field converts here, and a message
// from the network that does not fit (an unsafe integer, an unknown or local-only type) is
// refused rather than stepped into the core.
import { create } from "@bufbuild/protobuf";
import {
  type ConfState,
  type Entry,
  isLocalMessage,
  type Message,
  MessageType,
  type SnapshotMetadata,
} from "@d-engine/core";
import {
  ConfStateSchema,
  type ConfState as PbConfState,
  type Entry as PbEntry,
  type Message as PbMessage,
  type SnapshotMetadata as PbSnapshotMetadata,
  SnapshotMetadataSchema,
  SnapshotSchema,
} from "@d-engine/proto";

const MAX = BigInt(Number.MAX_SAFE_INTEGER);
const EMPTY = new Uint8Array(0);

/** A malformed peer message: the stream that carried it is ended with InvalidArgument. */
export class PeerCodecError extends Error {}

function num(v: bigint, what: string): number {
  if (v > MAX) throw new PeerCodecError(`${what} ${v} is larger than 2^53 - 1`);
  return Number(v);
}

const ids = (vs: readonly bigint[], what: string): number[] => vs.map((v) => num(v, what));

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
  if (!m) throw new PeerCodecError("snapshot metadata is missing");
  return {
    index: num(m.index, "snapshot index"),
    term: num(m.term, "snapshot term"),
    confState: confStateFromProto(m.confState),
  };
}

// The hot path (every entry of every append) builds the messages as plain objects: protobuf-es 2
// messages are plain objects with a $typeName, and create() spends several times longer filling
// defaults by reflection than building them directly. Every field is set, as create() would.
function entryToProto(e: Entry): PbEntry {
  return {
    $typeName: "dengine.v1.Entry",
    term: BigInt(e.term),
    index: BigInt(e.index),
    type: e.type as number,
    data: e.data,
  };
}

function entryFromProto(e: PbEntry): Entry {
  if (e.type !== 0 && e.type !== 1) throw new PeerCodecError(`unknown entry type ${e.type}`);
  return {
    term: num(e.term, "entry term"),
    index: num(e.index, "entry index"),
    type: e.type as number,
    data: e.data,
  };
}

export function messageToProto(m: Message): PbMessage {
  return {
    $typeName: "dengine.v1.Message",
    type: m.type as number,
    to: BigInt(m.to),
    from: BigInt(m.from),
    term: BigInt(m.term),
    logTerm: BigInt(m.logTerm),
    index: BigInt(m.index),
    entries: m.entries.length === 0 ? [] : m.entries.map(entryToProto),
    commit: BigInt(m.commit),
    snapshot: m.snapshot
      ? create(SnapshotSchema, {
          metadata: snapshotMetadataToProto(m.snapshot.metadata),
          data: m.snapshot.data,
        })
      : undefined,
    reject: m.reject,
    rejectHint: BigInt(m.rejectHint),
    context: m.context,
  };
}

const PEER_TYPES = new Set<number>(
  Object.values(MessageType).filter(
    (v): v is MessageType => typeof v === "number" && !isLocalMessage(v),
  ),
);

export function isPeerMessageType(t: number): boolean {
  return PEER_TYPES.has(t);
}

/** A message from a peer, checked: a known, non-local type and safe integers throughout. */
export function messageFromProto(m: PbMessage): Message {
  if (!PEER_TYPES.has(m.type)) {
    throw new PeerCodecError(`message type ${m.type} is not a peer message type`);
  }
  return {
    type: m.type as number as MessageType,
    to: num(m.to, "to"),
    from: num(m.from, "from"),
    term: num(m.term, "term"),
    logTerm: num(m.logTerm, "log term"),
    index: num(m.index, "index"),
    entries: m.entries.map(entryFromProto),
    commit: num(m.commit, "commit"),
    ...(m.snapshot
      ? {
          snapshot: {
            metadata: snapshotMetadataFromProto(m.snapshot.metadata),
            data: m.snapshot.data,
          },
        }
      : {}),
    reject: m.reject,
    rejectHint: num(m.rejectHint, "reject hint"),
    context: m.context.length ? m.context : EMPTY,
  };
}

/** About how many bytes a message takes on the wire (for cutting batches into frames). */
export function approxMessageBytes(m: Message): number {
  let n = 64 + m.context.length + (m.snapshot?.data.length ?? 0);
  for (const e of m.entries) n += 24 + e.data.length;
  return n;
}
