import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { EntryType, type Message, MessageType, message, seededRng } from "@d-engine/core";
import { MessageSchema } from "@d-engine/proto";
import { PeerHelloSchema, ReplicateRequestSchema } from "@d-engine/proto/peer";
import { CodecError } from "@d-engine/proto/raft-codec";
import { describe, expect, it } from "vitest";
import { messageFromProto, messageToProto } from "../testing/protobuf-es-messages.js";
import { makeHello } from "./hello.js";
import { decodeMessage, decodeReplicateRequest } from "./message-decoding.js";
import { encodeMessage, encodeReplicateRequest } from "./message-encoding.js";

const SEED = 20261123;

function randomMessage(rng: ReturnType<typeof seededRng>): Message {
  const big = (): number =>
    rng.nextInt(4) === 0 ? 0 : rng.nextInt(2) ? rng.nextInt(300) : 2 ** 40 + rng.nextInt(2 ** 30);
  const bytes = (n: number): Uint8Array => Uint8Array.from({ length: n }, () => rng.nextInt(256));
  const types = [
    MessageType.App,
    MessageType.AppResp,
    MessageType.Vote,
    MessageType.Heartbeat,
    MessageType.Snap,
    MessageType.ReadIndex,
  ];
  const type = types[rng.nextInt(types.length)] as MessageType;
  return message({
    type,
    to: 1 + rng.nextInt(5),
    from: rng.nextInt(5),
    term: big(),
    logTerm: big(),
    index: big(),
    commit: big(),
    reject: rng.nextInt(2) === 1,
    rejectHint: big(),
    context: bytes(rng.nextInt(3) === 0 ? rng.nextInt(20) : 0),
    entries: Array.from({ length: rng.nextInt(4) }, () => ({
      term: big(),
      index: big(),
      type: rng.nextInt(2) ? EntryType.Normal : EntryType.ConfChange,
      data: bytes(rng.nextInt(3) === 0 ? 0 : rng.nextInt(600)),
    })),
    ...(type === MessageType.Snap
      ? {
          snapshot: {
            metadata: {
              index: big(),
              term: big(),
              confState: {
                voters: [1, 2],
                learners: [3],
                votersOutgoing: [],
                learnersNext: [],
                autoLeave: false,
              },
            },
            data: bytes(rng.nextInt(100)),
          },
        }
      : {}),
  });
}

describe("the hand-written message encoder", () => {
  it(`writes exactly protobuf-es's bytes (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let i = 0; i < 500; i++) {
      const m = randomMessage(rng);
      const mine = encodeMessage(m);
      expect(
        Buffer.from(mine).equals(Buffer.from(toBinary(MessageSchema, messageToProto(m)))),
      ).toBe(true);
      expect(messageFromProto(fromBinary(MessageSchema, mine))).toEqual(m);
    }
  });

  it("frames decode with the generated schema", () => {
    const rng = seededRng(SEED + 1);
    const ms = Array.from({ length: 20 }, () => randomMessage(rng));
    const hello = makeHello({ clusterId: "c", nodeId: 1, address: "127.0.0.1:1" }, 2);
    const bytes = encodeReplicateRequest(toBinary(PeerHelloSchema, hello), ms);
    const back = fromBinary(ReplicateRequestSchema, bytes);
    expect(
      Buffer.from(bytes).equals(
        Buffer.from(
          toBinary(
            ReplicateRequestSchema,
            create(ReplicateRequestSchema, { hello, messages: ms.map(messageToProto) }),
          ),
        ),
      ),
    ).toBe(true);
    expect(back.hello?.clusterId).toBe("c");
    expect(back.messages.map(messageFromProto)).toEqual(ms);
  });

  it("refuses numbers that are not safe integers", () => {
    expect(() => encodeMessage(message({ type: MessageType.App, term: 2 ** 53 }))).toThrow(/term/);
  });
});

describe("the hand-written message decoder", () => {
  it(`reads what protobuf-es writes, and what the encoder writes (seed ${SEED + 2})`, () => {
    const rng = seededRng(SEED + 2);
    for (let i = 0; i < 500; i++) {
      const m = randomMessage(rng);
      expect(decodeMessage(toBinary(MessageSchema, messageToProto(m)))).toEqual(m);
      expect(decodeMessage(encodeMessage(m))).toEqual(m);
    }
  });

  it("parses frames protobuf-es writes, keeping the messages in order", () => {
    const rng = seededRng(SEED + 3);
    const ms = Array.from({ length: 20 }, () => randomMessage(rng));
    const hello = makeHello({ clusterId: "c", nodeId: 1, address: "127.0.0.1:1" }, 2);
    const bytes = toBinary(
      ReplicateRequestSchema,
      create(ReplicateRequestSchema, { hello, messages: ms.map(messageToProto) }),
    );
    const back = decodeReplicateRequest(bytes);
    expect(fromBinary(PeerHelloSchema, back.hello as Uint8Array).clusterId).toBe("c");
    expect(back.messages).toEqual(ms);
    // A later frame has no hello.
    expect(decodeReplicateRequest(encodeReplicateRequest(undefined, ms.slice(0, 3)))).toEqual({
      hello: undefined,
      messages: ms.slice(0, 3),
    });
  });

  it("refuses malformed messages with a CodecError", () => {
    const ok = encodeMessage(message({ type: MessageType.App, to: 2, from: 1, term: 1 }));
    expect(() => decodeMessage(ok.subarray(0, ok.length - 1))).toThrow(CodecError);
    // A local-only type never comes from the network.
    expect(() => decodeMessage(encodeMessage(message({ type: MessageType.Hup })))).toThrow(
      /not a peer message/,
    );
    // A varint past 2^53.
    expect(() =>
      decodeMessage(new Uint8Array([0x20, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f])),
    ).toThrow(/term/);
    // A known field with the wrong wire type.
    expect(() => decodeMessage(new Uint8Array([0x0a, 0x00]))).toThrow(/wire type/);
  });
});
