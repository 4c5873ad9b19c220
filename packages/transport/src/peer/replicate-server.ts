// The receiving side of the Replicate stream, on node:http2 directly (@d-engine/client's
// wire/envelopes.ts says why). startNodeServer hands it every request for
// RaftPeerService/Replicate; InstallSnapshot and the client API stay on Connect. It speaks gRPC:
// the first frame's hello is checked (cluster, ids) and answered with this node's id; every
// frame's messages are decoded by hand (message-decoding.ts), checked to travel from the hello's
// node to this one, and delivered to the engine in order. Anything wrong ends the stream with a
// gRPC status naming it; the server goes on serving everyone else.
import type * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { EnvelopeReader, envelope, GRPC_CONTENT_TYPE, statusTrailers } from "@d-engine/client/wire";
import type { Message } from "@d-engine/core";
import { PeerHelloSchema, RaftPeerService, ReplicateResponseSchema } from "@d-engine/proto/peer";
import { CodecError } from "@d-engine/proto/raft-codec";
import type { TransportLogger } from "../log.js";
import { type CheckedHello, checkHello } from "./hello.js";
import { decodeReplicateRequest } from "./message-decoding.js";
import type { PeerHandler, PeerIdentity } from "./types.js";

/** The HTTP/2 path of RaftPeerService/Replicate. */
export const REPLICATE_PATH = `/${RaftPeerService.typeName}/${RaftPeerService.method.replicate.name}`;

export interface ReplicateServerOptions {
  readonly identity: PeerIdentity;
  readonly handler: PeerHandler;
  readonly logger: TransportLogger;
  /** Aborts when the server shuts down: open streams end (the callers reconnect elsewhere). */
  readonly shutdownSignal: AbortSignal;
  /** The largest frame accepted. */
  readonly maxFrameBytes: number;
}

/** Serves one Replicate call on `stream`. */
export function serveReplicate(
  stream: http2.ServerHttp2Stream,
  headers: http2.IncomingHttpHeaders,
  o: ReplicateServerOptions,
): void {
  const contentType = String(headers["content-type"] ?? "");
  if (!contentType.startsWith("application/grpc")) {
    stream.respond({ ":status": 415 }, { endStream: true });
    return;
  }
  if (/json/i.test(contentType)) {
    // Messages are read from binary frames only.
    refuseAtOnce(stream, Code.InvalidArgument, "Replicate takes binary protobuf frames only");
    return;
  }
  new ReplicateCall(stream, o).start();
}

/** An error before any answer: a trailers-only response. */
function refuseAtOnce(stream: http2.ServerHttp2Stream, code: Code, message: string): void {
  stream.respond(
    { ":status": 200, "content-type": GRPC_CONTENT_TYPE, ...statusTrailers(code, message) },
    { endStream: true },
  );
}

class ReplicateCall {
  private readonly reader: EnvelopeReader;
  private hello: CheckedHello | undefined;
  private trailers: Record<string, string> = statusTrailers(0);
  private ended = false;
  private readonly onShutdown = (): void => this.end(0);

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly o: ReplicateServerOptions,
  ) {
    this.reader = new EnvelopeReader(o.maxFrameBytes);
  }

  start(): void {
    const { stream } = this;
    stream.respond(
      { ":status": 200, "content-type": GRPC_CONTENT_TYPE },
      { waitForTrailers: true },
    );
    // node:http2's compatibility response (made for every stream, never used for this one)
    // would send empty trailers of its own: this call's status goes instead.
    stream.removeAllListeners("wantTrailers");
    stream.on("wantTrailers", () => stream.sendTrailers(this.trailers));
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => {
      if (this.reader.pending > 0) {
        this.fail(new ConnectError("the stream ended inside a frame", Code.InvalidArgument));
      } else {
        this.end(0);
      }
    });
    // The caller went away (or the session broke): nothing to answer.
    stream.on("error", () => this.stop());
    stream.on("close", () => this.stop());
    if (this.o.shutdownSignal.aborted) this.end(0);
    else this.o.shutdownSignal.addEventListener("abort", this.onShutdown, { once: true });
  }

  private onData(chunk: Uint8Array): void {
    if (this.ended) return;
    try {
      for (const frame of this.reader.push(chunk)) this.onFrame(frame);
    } catch (e) {
      this.fail(e);
    }
  }

  private onFrame(frame: Uint8Array): void {
    if (this.ended) return;
    let decoded: ReturnType<typeof decodeReplicateRequest>;
    try {
      decoded = decodeReplicateRequest(frame);
    } catch (e) {
      if (e instanceof CodecError) {
        throw new ConnectError(`malformed Raft message: ${e.message}`, Code.InvalidArgument);
      }
      throw e;
    }
    let hello = this.hello;
    if (hello === undefined) {
      hello = this.greet(decoded.hello);
      this.hello = hello;
    }
    this.deliver(hello, decoded.messages);
  }

  /** Checks the first frame's hello and answers it with this node's id. */
  private greet(bytes: Uint8Array | undefined): CheckedHello {
    const { identity, logger, handler } = this.o;
    let pb: ReturnType<typeof fromBinary<typeof PeerHelloSchema>> | undefined;
    try {
      pb = bytes === undefined ? undefined : fromBinary(PeerHelloSchema, bytes);
    } catch (e) {
      throw new ConnectError(`malformed hello: ${String(e)}`, Code.InvalidArgument);
    }
    const hello = checkHello(identity, pb, "Replicate", logger);
    const answer = create(ReplicateResponseSchema, { nodeId: BigInt(identity.nodeId) });
    this.stream.write(envelope(toBinary(ReplicateResponseSchema, answer)));
    if (hello.fromAddress) handler.onPeerAddress?.(hello.from, hello.fromAddress);
    return hello;
  }

  private deliver(hello: CheckedHello, messages: Message[]): void {
    const me = this.o.identity.nodeId;
    for (const m of messages) {
      if (m.from !== hello.from || m.to !== me) {
        throw new ConnectError(
          `a message from ${m.from} to ${m.to} on the stream from node ${hello.from} to node ${me}`,
          Code.InvalidArgument,
        );
      }
    }
    if (messages.length === 0) return;
    try {
      this.o.handler.onMessages(hello.from, messages);
    } catch (e) {
      // The engine's problem, not the stream's: Raft recovers from lost messages.
      this.o.logger.warn({ from: hello.from, err: String(e) }, "peer messages were not accepted");
    }
  }

  private fail(e: unknown): void {
    const ce = ConnectError.from(e);
    this.end(ce.code, ce.rawMessage);
  }

  /** Ends the call with a status; later frames are ignored (read and dropped). */
  private end(code: Code | 0, message = ""): void {
    if (this.ended) return;
    this.ended = true;
    this.trailers = statusTrailers(code, message);
    this.o.shutdownSignal.removeEventListener("abort", this.onShutdown);
    if (!this.stream.destroyed && !this.stream.writableEnded) this.stream.end();
    this.stream.resume();
  }

  private stop(): void {
    this.ended = true;
    this.o.shutdownSignal.removeEventListener("abort", this.onShutdown);
  }
}
