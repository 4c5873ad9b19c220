// The receiving half of message-encoding.ts: dengine.v1.Message decoded by hand (protobuf-es
// spends several µs per entry decoding by reflection). The Replicate handler is registered with
// a view of ReplicateRequest that declares only the hello, so protobuf-es leaves field 2 (the
// messages) as raw unknown-field bytes and this decoder reads them. Any valid encoding is
// accepted (fields in any order, unknown fields skipped); anything else is a CodecError.
import {
  create,
  createFileRegistry,
  type DescMessage,
  type DescService,
  fromBinary,
} from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import {
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  FileDescriptorProtoSchema,
} from "@bufbuild/protobuf/wkt";
import type { Entry, Message, MessageType, Snapshot } from "@d-engine/core";
import { SnapshotSchema } from "@d-engine/proto";
import { file_dengine_peer_v1_peer, RaftPeerService } from "@d-engine/proto/peer";
import {
  CodecError,
  decodeEntry,
  expectWire,
  ProtoReader,
  snapshotMetadataFromProto,
} from "@d-engine/proto/raft-codec";
import { isPeerMessageType } from "./codec.js";

const EMPTY: Uint8Array = new Uint8Array(0);

function decodeSnapshot(buf: Uint8Array): Snapshot {
  let pb: ReturnType<typeof fromBinary<typeof SnapshotSchema>>;
  try {
    pb = fromBinary(SnapshotSchema, buf);
  } catch (e) {
    throw new CodecError(`malformed snapshot: ${String(e)}`);
  }
  return { metadata: snapshotMetadataFromProto(pb.metadata), data: pb.data };
}

/** A dengine.v1.Message from its bytes, checked like messageFromProto. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new ProtoReader(buf);
  let type = 0;
  let to = 0;
  let from = 0;
  let term = 0;
  let logTerm = 0;
  let index = 0;
  const entries: Entry[] = [];
  let commit = 0;
  let snapshot: Snapshot | undefined;
  let reject = false;
  let rejectHint = 0;
  let context = EMPTY;
  while (r.pos < r.end) {
    const tag = r.varint("message tag");
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    const num = (what: string): number => {
      expectWire(wt, WireType.Varint, what);
      return r.varint(what);
    };
    switch (no) {
      case 1:
        type = num("type");
        break;
      case 2:
        to = num("to");
        break;
      case 3:
        from = num("from");
        break;
      case 4:
        term = num("term");
        break;
      case 5:
        logTerm = num("log term");
        break;
      case 6:
        index = num("index");
        break;
      case 7: {
        expectWire(wt, WireType.LengthDelimited, "entries");
        const bytes = r.bytes("entry");
        // A view, not a copy: the frame's buffer is not reused.
        entries.push(decodeEntry(bytes, 0, bytes.length, false));
        break;
      }
      case 8:
        commit = num("commit");
        break;
      case 9:
        expectWire(wt, WireType.LengthDelimited, "snapshot");
        snapshot = decodeSnapshot(r.bytes("snapshot"));
        break;
      case 10:
        reject = num("reject") !== 0;
        break;
      case 11:
        rejectHint = num("reject hint");
        break;
      case 12:
        expectWire(wt, WireType.LengthDelimited, "context");
        context = r.bytes("context");
        break;
      default:
        r.skip(wt, "message");
    }
  }
  if (!isPeerMessageType(type)) {
    throw new CodecError(`message type ${type} is not a peer message type`);
  }
  return {
    type: type as MessageType,
    to,
    from,
    term,
    logTerm,
    index,
    entries,
    commit,
    ...(snapshot ? { snapshot } : {}),
    reject,
    rejectHint,
    context,
  };
}

/** The messages of a raw ReplicateRequest: its field-2 unknown fields, in order. */
export function decodeRawMessages(
  unknown: readonly { no: number; wireType: number; data: Uint8Array }[] | undefined,
): Message[] {
  const out: Message[] = [];
  for (const u of unknown ?? []) {
    if (u.no !== 2) continue;
    if (u.wireType !== WireType.LengthDelimited) {
      throw new CodecError(`messages has wire type ${u.wireType}`);
    }
    // The unknown field's data starts with the length prefix.
    const r = new ProtoReader(u.data);
    out.push(decodeMessage(r.bytes("message")));
  }
  return out;
}

/**
 * ReplicateRequest as the receiver parses it: the hello only, so that protobuf-es keeps the
 * messages (field 2) as raw bytes for decodeMessage. Same field numbers, same wire format.
 */
const rawFile = createFileRegistry(
  create(FileDescriptorProtoSchema, {
    name: "dengine/peer/v1/peer_raw_view.proto",
    package: "dengine.peer.v1.rawview",
    syntax: "proto3",
    dependency: ["dengine/peer/v1/peer.proto"],
    messageType: [
      {
        name: "ReplicateRequest",
        field: [
          {
            name: "hello",
            jsonName: "hello",
            number: 1,
            label: FieldDescriptorProto_Label.OPTIONAL,
            type: FieldDescriptorProto_Type.MESSAGE,
            typeName: ".dengine.peer.v1.PeerHello",
          },
        ],
      },
    ],
  }),
  (name) => (name === "dengine/peer/v1/peer.proto" ? file_dengine_peer_v1_peer : undefined),
);

export const RawReplicateRequestSchema = rawFile.getMessage(
  "dengine.peer.v1.rawview.ReplicateRequest",
) as DescMessage;

/**
 * RaftPeerService with Replicate's input swapped for the raw view. The service keeps its name,
 * so the route ("/dengine.peer.v1.RaftPeerService/Replicate") is unchanged.
 */
export function rawPeerService(): DescService {
  const methods = RaftPeerService.methods.map((m) =>
    m.name === "Replicate" ? { ...m, input: RawReplicateRequestSchema } : m,
  );
  const method = Object.fromEntries(methods.map((m) => [m.localName, m]));
  return { ...RaftPeerService, methods, method } as unknown as DescService;
}
