// The receiving half of message-encoding.ts: ReplicateRequest frames and dengine.v1.Message
// decoded by hand (protobuf-es spends several µs per entry decoding by reflection). Any valid
// encoding is accepted (fields in any order, unknown fields skipped); anything else is a
// CodecError.
import { fromBinary } from "@bufbuild/protobuf";
import { WireType } from "@bufbuild/protobuf/wire";
import type { Entry, Message, MessageType, Snapshot } from "@d-engine/core";
import { SnapshotSchema } from "@d-engine/proto";
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

/**
 * A ReplicateRequest from its bytes: the hello (field 1; its bytes, for fromBinary, since it
 * comes once per stream) and the messages (field 2), in order. Unknown fields are skipped.
 */
export function decodeReplicateRequest(buf: Uint8Array): {
  hello: Uint8Array | undefined;
  messages: Message[];
} {
  const r = new ProtoReader(buf);
  let hello: Uint8Array | undefined;
  const messages: Message[] = [];
  while (r.pos < r.end) {
    const tag = r.varint("replicate request tag");
    const no = Math.floor(tag / 8);
    const wt = tag & 7;
    if (no === 1) {
      expectWire(wt, WireType.LengthDelimited, "hello");
      hello = r.bytes("hello");
    } else if (no === 2) {
      expectWire(wt, WireType.LengthDelimited, "messages");
      messages.push(decodeMessage(r.bytes("message")));
    } else {
      r.skip(wt, "replicate request");
    }
  }
  return { hello, messages };
}
