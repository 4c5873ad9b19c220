// The Replicate stream's server side, driven by hand over node:http2 on 127.0.0.1: it answers a
// good hello with its id and delivers frames in order; a malformed frame, a message that does not
// travel from the hello's node to this one, a missing hello, a cut frame or a wrong content type
// each end that stream with a status naming the problem, and the server keeps serving.
import * as http2 from "node:http2";
import { fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code } from "@connectrpc/connect";
import { EnvelopeReader, envelope, GRPC_CONTENT_TYPE, statusError } from "@d-engine/client/wire";
import { type Message, MessageType, message, type NodeId } from "@d-engine/core";
import { PeerHelloSchema, ReplicateResponseSchema } from "@d-engine/proto/peer";
import { describe, expect, it } from "vitest";
import type { NodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { makeHello } from "./hello.js";
import { encodeReplicateRequest } from "./message-encoding.js";
import { REPLICATE_PATH } from "./replicate-server.js";
import type { PeerHandler } from "./types.js";

const cleanups = cleanupsAfterEach();

class Recorder implements PeerHandler {
  readonly delivered: { from: NodeId; messages: Message[] }[] = [];
  onMessages(from: NodeId, messages: readonly Message[]): void {
    this.delivered.push({ from, messages: [...messages] });
  }
  onPeerAddress(): void {}
  receiveSnapshot(): never {
    throw new Error("not in this test");
  }
}

/** Node 2 of cluster "test", recording what peers deliver and what the server warns about. */
async function serve(): Promise<{ server: NodeServer; recorder: Recorder; warnings: string[] }> {
  const recorder = new Recorder();
  const warnings: string[] = [];
  const server = await serveFakeApi(new FakeApi(2), cleanups, { peerHandler: recorder, warnings });
  return { server, recorder, warnings };
}

interface CallResult {
  readonly httpStatus: number;
  readonly answers: bigint[];
  /** The gRPC status: 0 for OK. */
  readonly code: number;
  readonly message: string;
}

/** One Replicate call: writes `body` (already framed), ends the request, reads to the end. */
function call(
  server: NodeServer,
  body: Uint8Array,
  contentType = GRPC_CONTENT_TYPE,
): Promise<CallResult> {
  const session = http2.connect(`http://${server.address}`);
  cleanups.push(() => new Promise<void>((r) => session.close(() => r())));
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": REPLICATE_PATH,
      "content-type": contentType,
      te: "trailers",
    });
    let httpStatus = 0;
    const answers: bigint[] = [];
    const reader = new EnvelopeReader(1024);
    let status: Record<string, string | string[] | undefined> | undefined;
    stream.on("response", (h) => {
      httpStatus = Number(h[":status"]);
      if (h["grpc-status"] !== undefined) status = h;
    });
    stream.on("data", (chunk: Uint8Array) => {
      for (const b of reader.push(chunk))
        answers.push(fromBinary(ReplicateResponseSchema, b).nodeId);
    });
    stream.on("trailers", (t) => {
      status = t;
    });
    stream.on("error", reject);
    stream.on("close", () => {
      const e = status ? statusError(status) : undefined;
      resolve({
        httpStatus,
        answers,
        code: status ? (e?.code ?? 0) : -1,
        message: e?.rawMessage ?? "",
      });
    });
    stream.end(body);
  });
}

const hello = toBinary(
  PeerHelloSchema,
  makeHello({ clusterId: "test", nodeId: 1, address: "127.0.0.1:1" }, 2),
);
const app = (index: number, from = 1, to = 2): Message =>
  message({ type: MessageType.App, from, to, term: 2, logTerm: 2, index });
const frame = (h: Uint8Array | undefined, ms: Message[]): Uint8Array =>
  envelope(encodeReplicateRequest(h, ms));
const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

describe("the Replicate server", () => {
  it("answers the hello with its id and delivers every frame in order", async () => {
    const { server, recorder } = await serve();
    const r = await call(
      server,
      concat(frame(hello, [app(1)]), frame(undefined, [app(2), app(3)]), frame(undefined, [])),
    );
    expect(r).toMatchObject({ httpStatus: 200, answers: [2n], code: 0 });
    expect(recorder.delivered.map((d) => d.messages.map((m) => m.index))).toEqual([[1], [2, 3]]);
    expect(recorder.delivered.every((d) => d.from === 1)).toBe(true);
  });

  it("ends a stream on a malformed frame, keeping what came before, and keeps serving", async () => {
    const { server, recorder } = await serve();
    const garbage = envelope(Uint8Array.of(0x12, 0x05, 0x08));
    const r = await call(
      server,
      concat(frame(hello, [app(1)]), garbage, frame(undefined, [app(9)])),
    );
    expect(r.code).toBe(Code.InvalidArgument);
    expect(r.message).toMatch(/malformed Raft message/);
    expect(recorder.delivered.map((d) => d.messages.map((m) => m.index))).toEqual([[1]]);

    const ok = await call(server, frame(hello, [app(5)]));
    expect(ok.code).toBe(0);
    expect(recorder.delivered.at(-1)?.messages[0]?.index).toBe(5);
  });

  it("refuses a message that does not travel from the hello's node to this one", async () => {
    const { server, recorder } = await serve();
    const r = await call(server, frame(hello, [app(1, 3, 2)]));
    expect(r.code).toBe(Code.InvalidArgument);
    expect(r.message).toContain("a message from 3 to 2 on the stream from node 1 to node 2");
    expect(recorder.delivered).toEqual([]);
  });

  it("refuses a first frame without a hello, and a hello from another cluster", async () => {
    const { server, warnings } = await serve();
    const none = await call(server, frame(undefined, [app(1)]));
    expect(none.code).toBe(Code.InvalidArgument);
    expect(none.message).toMatch(/no hello/);
    const other = toBinary(
      PeerHelloSchema,
      makeHello({ clusterId: "c9", nodeId: 1, address: "127.0.0.1:1" }, 2),
    );
    const refused = await call(server, frame(other, [app(1)]));
    expect(refused.code).toBe(Code.FailedPrecondition);
    expect(refused.message).toMatch(/cluster "c9", this node is in cluster "test"/);
    expect(warnings.some((w) => w.includes("c9"))).toBe(true);
  });

  it("refuses a stream cut inside a frame, compressed frames and other content types", async () => {
    const { server } = await serve();
    const whole = frame(hello, [app(1)]);
    const cut = await call(server, concat(whole, frame(undefined, [app(2)]).subarray(0, 7)));
    expect(cut.code).toBe(Code.InvalidArgument);
    expect(cut.message).toMatch(/ended inside a frame/);

    const compressed = frame(hello, [app(1)]);
    compressed[0] = 1;
    expect((await call(server, compressed)).code).toBe(Code.InvalidArgument);

    expect((await call(server, whole, "application/grpc+json")).code).toBe(Code.InvalidArgument);
    expect((await call(server, whole, "text/plain")).httpStatus).toBe(415);
  });
});
