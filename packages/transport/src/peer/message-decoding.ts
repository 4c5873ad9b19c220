// The receiving half of message-encoding.ts: dengine.v1.Message decoded by hand (protobuf-es
// spends several µs per entry decoding by reflection). The Replicate handler is registered with
// a view of ReplicateRequest that declares only the hello, so protobuf-es leaves field 2 (the
// messages) as raw unknown-field bytes and this decoder reads them. Any valid encoding is
// accepted (fields in any order, unknown fields skipped); anything else is a PeerCodecError.
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
import { confStateFromProto, isPeerMessageType, PeerCodecError } from "./codec.js";

const EMPTY: Uint8Array = new Uint8Array(0);
const MAX = Number.MAX_SAFE_INTEGER;

class Reader {
  pos = 0;
  constructor(
    readonly buf: Uint8Array,
    readonly end = buf.length,
  ) {}

  varint(what: string): number {
    let result = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new PeerCodecError(`truncated varint in ${what}`);
      const b = this.buf[this.pos++] as number;
      result += (b & 0x7f) * mul;
      if (b < 0x80) {
        if (result > MAX) throw new PeerCodecError(`${what} is larger than 2^53 - 1`);
        return result;
      }
      mul *= 128;
    }
    throw new PeerCodecError(`malformed varint in ${what}`);
  }

  bytes(what: string): Uint8Array {
    const n = this.varint(`${what} length`);
    if (this.pos + n > this.end) throw new PeerCodecError(`${what} runs past its message`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  skip(wireType: number, what: string): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint(what);
        return;
      case WireType.Bit64:
        this.pos += 8;
        break;
      case WireType.LengthDelimited:
        this.bytes(what);
        return;
      case WireType.Bit32:
        this.pos += 4;
        break;
      default:
        throw new PeerCodecError(`unsupported wire type ${wireType} in ${what}`);
    }
    if (this.pos > this.end) throw new PeerCodecError(`${what} runs past its message`);
  }
}

function expectWire(actual: number, expected: WireType, what: string): void {
  if (actual !== expected) throw new PeerCodecError(`${what} has wire type ${actual}`);
}

function decodeEntry(buf: Uint8Array): Entry {
  const r = new Reader(buf);
  let term = 0;
  let index = 0;
  let type = 0;
  let data = EMPTY;
  while (r.pos < r.end) {
    const tag = r.varint("entry tag");
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    switch (no) {
      case 1:
        expectWire(wt, WireType.Varint, "entry term");
        term = r.varint("entry term");
        break;
      case 2:
        expectWire(wt, WireType.Varint, "entry index");
        index = r.varint("entry index");
        break;
      case 3:
        expectWire(wt, WireType.Varint, "entry type");
        type = r.varint("entry type");
        break;
      case 4:
        expectWire(wt, WireType.LengthDelimited, "entry data");
        data = r.bytes("entry data");
        break;
      default:
        r.skip(wt, "entry");
    }
  }
  if (type !== 0 && type !== 1) throw new PeerCodecError(`unknown entry type ${type}`);
  return { term, index, type, data };
}

function decodeSnapshot(buf: Uint8Array): Snapshot {
  let pb: ReturnType<typeof fromBinary<typeof SnapshotSchema>>;
  try {
    pb = fromBinary(SnapshotSchema, buf);
  } catch (e) {
    throw new PeerCodecError(`malformed snapshot: ${String(e)}`);
  }
  const n = (v: bigint, what: string): number => {
    if (v > BigInt(MAX)) throw new PeerCodecError(`${what} is larger than 2^53 - 1`);
    return Number(v);
  };
  return {
    metadata: {
      index: n(pb.metadata?.index ?? 0n, "snapshot index"),
      term: n(pb.metadata?.term ?? 0n, "snapshot term"),
      confState: confStateFromProto(pb.metadata?.confState),
    },
    data: pb.data,
  };
}

/** A dengine.v1.Message from its bytes, checked like messageFromProto. */
export function decodeMessage(buf: Uint8Array): Message {
  const r = new Reader(buf);
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
      case 7:
        expectWire(wt, WireType.LengthDelimited, "entries");
        entries.push(decodeEntry(r.bytes("entry")));
        break;
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
    throw new PeerCodecError(`message type ${type} is not a peer message type`);
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
      throw new PeerCodecError(`messages has wire type ${u.wireType}`);
    }
    // The unknown field's data starts with the length prefix.
    const r = new Reader(u.data);
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
