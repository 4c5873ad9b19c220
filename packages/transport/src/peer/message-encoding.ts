// A hand-written encoder for dengine.v1.Message, the hot path of replication. protobuf-es encodes
// by reflection, several µs per 256-byte entry (storage measured the same and hand-encodes its
// log records); this writes the same bytes directly, and whole ReplicateRequest frames around
// them: exactly what toBinary(ReplicateRequestSchema, ...) would produce, so any gRPC peer of
// RaftPeerService reads them (message-encoding.test.ts checks both ways).
import { toBinary } from "@bufbuild/protobuf";
import type { Message } from "@d-engine/core";
import { SnapshotSchema } from "@d-engine/proto";
import {
  bytesFieldSize,
  checkU64,
  encodeEntryInto,
  entryEncodedSize,
  snapshotMetadataToProto,
  varintFieldSize,
  varintSize,
  writeBytesField,
  writeVarint,
  writeVarintField,
} from "@d-engine/proto/raft-codec";

/** The protobuf encoding of `m` as a dengine.v1.Message. */
export function encodeMessage(m: Message): Uint8Array {
  for (const [v, what] of [
    [m.to, "to"],
    [m.from, "from"],
    [m.term, "term"],
    [m.logTerm, "log term"],
    [m.index, "index"],
    [m.commit, "commit"],
    [m.rejectHint, "reject hint"],
  ] as const) {
    checkU64(v, what);
  }
  const entrySizes = m.entries.map(entryEncodedSize);
  const snapshot = m.snapshot
    ? toBinary(SnapshotSchema, {
        $typeName: "dengine.v1.Snapshot",
        metadata: snapshotMetadataToProto(m.snapshot.metadata),
        data: m.snapshot.data,
      })
    : undefined;
  let size =
    varintFieldSize(m.type) +
    varintFieldSize(m.to) +
    varintFieldSize(m.from) +
    varintFieldSize(m.term) +
    varintFieldSize(m.logTerm) +
    varintFieldSize(m.index) +
    varintFieldSize(m.commit) +
    (m.reject ? 2 : 0) +
    varintFieldSize(m.rejectHint) +
    bytesFieldSize(m.context.length);
  // An empty entry is still written (a repeated message field has no default to skip).
  for (const n of entrySizes) size += 1 + varintSize(n) + n;
  if (snapshot) size += 1 + varintSize(snapshot.length) + snapshot.length;

  const buf = new Uint8Array(size);
  let pos = 0;
  const v = (tag: number, value: number): void => {
    pos = writeVarintField(buf, pos, tag, value);
  };
  v(0x08, m.type);
  v(0x10, m.to);
  v(0x18, m.from);
  v(0x20, m.term);
  v(0x28, m.logTerm);
  v(0x30, m.index);
  m.entries.forEach((e, i) => {
    buf[pos] = 0x3a;
    pos = writeVarint(buf, pos + 1, entrySizes[i] as number);
    pos = encodeEntryInto(e, buf, pos);
  });
  v(0x40, m.commit);
  if (snapshot) {
    buf[pos] = 0x4a;
    pos = writeVarint(buf, pos + 1, snapshot.length);
    buf.set(snapshot, pos);
    pos += snapshot.length;
  }
  if (m.reject) {
    buf[pos++] = 0x50;
    buf[pos++] = 1;
  }
  v(0x58, m.rejectHint);
  pos = writeBytesField(buf, pos, 0x62, m.context);
  if (pos !== size) throw new Error(`message encoding: wrote ${pos} bytes, sized ${size}`);
  return buf;
}

/**
 * The bytes of a ReplicateRequest: the hello (already encoded, first frame only) as field 1, each
 * message as field 2. What toBinary would write for the same request (message-encoding.test.ts).
 */
export function encodeReplicateRequest(
  hello: Uint8Array | undefined,
  messages: readonly Message[],
  /** Leading bytes left unwritten for the caller (a gRPC envelope header): no second copy. */
  headroom = 0,
): Uint8Array {
  const bodies = messages.map(encodeMessage);
  let size = headroom + (hello ? 1 + varintSize(hello.length) + hello.length : 0);
  for (const b of bodies) size += 1 + varintSize(b.length) + b.length;
  const buf = new Uint8Array(size);
  let pos = headroom;
  if (hello) pos = writeBytesField(buf, pos, 0x0a, hello);
  for (const b of bodies) {
    buf[pos] = 0x12;
    pos = writeVarint(buf, pos + 1, b.length);
    buf.set(b, pos);
    pos += b.length;
  }
  return buf;
}
