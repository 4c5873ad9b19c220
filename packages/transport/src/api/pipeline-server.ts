// KvService.Pipeline on node:http2 directly, as Replicate is (@d-engine/client's
// wire/envelopes.ts says why): the same PipelineStream (pipeline-routes.ts) runs the calls, but
// its request and response messages go straight between the HTTP/2 stream and protobuf (puts and
// gets read and written by hand: pipeline-decoding.ts, pipeline-encoding.ts; the rest through
// protobuf-es), not through connect-es's generic streaming pipeline (a universal request and
// response, async-iterable transforms, a serializer and an envelope transform per message). The bytes on the wire are the protocols'
// own, so every client interoperates; startNodeServer sends a Pipeline stream here when it speaks
// one of the two protocols the Node client uses, binary and uncompressed:
// - gRPC ("application/grpc", "application/grpc+proto"): the status in trailers;
// - Connect streaming ("application/connect+proto"): the status in a last message flagged
//   end-of-stream, a JSON EndStreamResponse.
// Anything else (JSON, gRPC-Web, compression, a stream deadline) stays with connect-es, which
// serves the same PipelineStream.
import type * as http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createEndStreamSerialization, endStreamFlag } from "@connectrpc/connect/protocol-connect";
import { AsyncQueue, EnvelopeReader, envelope, statusTrailers } from "@d-engine/client/wire";
import { KvService, type PipelineRequest, PipelineRequestSchema } from "@d-engine/proto/api";
import type { KvCalls } from "./kv-calls.js";
import { decodePipelineRequestFast } from "./pipeline-decoding.js";
import { encodePipelineResponse } from "./pipeline-encoding.js";
import { type PipelineHandlerOptions, pipelineResponses } from "./pipeline-routes.js";

/** The HTTP/2 path of KvService/Pipeline. */
export const PIPELINE_PATH = `/${KvService.typeName}/${KvService.method.pipeline.name}`;

/** The two protocols served here. */
export type PipelineWire = "grpc" | "connect";

export interface PipelineServerOptions extends PipelineHandlerOptions {
  /** The largest request message accepted. */
  readonly maxMessageBytes: number;
}

/**
 * The protocol of a Pipeline request this module serves, or undefined for one connect-es must
 * serve (another content type, a compressed body, a deadline on the whole stream).
 */
export function pipelineWire(headers: http2.IncomingHttpHeaders): PipelineWire | undefined {
  const type = headers["content-type"];
  if (headers["grpc-timeout"] !== undefined || headers["connect-timeout-ms"] !== undefined) {
    return undefined;
  }
  if (type === "application/grpc" || type === "application/grpc+proto") {
    return identity(headers["grpc-encoding"]) ? "grpc" : undefined;
  }
  if (type === "application/connect+proto") {
    return identity(headers["connect-content-encoding"]) ? "connect" : undefined;
  }
  return undefined;
}

function identity(encoding: string | string[] | undefined): boolean {
  return encoding === undefined || encoding === "identity";
}

/** Serves one Pipeline stream speaking `wire` (see pipelineWire) over `calls`. */
export function servePipeline(
  stream: http2.ServerHttp2Stream,
  wire: PipelineWire,
  calls: KvCalls,
  o: PipelineServerOptions,
): void {
  new PipelineServerStream(stream, wire, calls, o).start();
}

const endStream = createEndStreamSerialization(undefined);

/** Request messages read from the HTTP/2 stream but not yet taken by the PipelineStream. */
const READ_AHEAD = 16;

class PipelineServerStream {
  private readonly reader: EnvelopeReader;
  private readonly requests = new AsyncQueue<PipelineRequest>();
  /** Aborts when the stream closes or breaks: the PipelineStream then aborts its calls. */
  private readonly closed = new AbortController();
  private trailers: Record<string, string> = statusTrailers(0);
  private done = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly wire: PipelineWire,
    private readonly calls: KvCalls,
    private readonly o: PipelineServerOptions,
  ) {
    this.reader = new EnvelopeReader(o.maxMessageBytes);
  }

  start(): void {
    const { stream } = this;
    const grpc = this.wire === "grpc";
    stream.respond(
      {
        ":status": 200,
        "content-type": grpc ? "application/grpc+proto" : "application/connect+proto",
      },
      grpc ? { waitForTrailers: true } : {},
    );
    // node:http2's compatibility response (made for every stream, never used for this one)
    // would send empty trailers of its own: this call's status goes instead.
    stream.removeAllListeners("wantTrailers");
    if (grpc) stream.on("wantTrailers", () => stream.sendTrailers(this.trailers));
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => {
      if (this.reader.pending > 0) {
        this.requests.fail(
          new ConnectError("the stream ended inside a message", Code.InvalidArgument),
        );
      } else {
        this.requests.end();
      }
    });
    // The client went away (or the session broke): nothing more to answer.
    const gone = (): void => {
      this.done = true;
      this.requests.end();
      this.closed.abort(new Error("the pipeline stream closed"));
    };
    stream.on("error", gone);
    stream.on("close", gone);
    this.requests.onTaken = () => {
      if (this.requests.size < READ_AHEAD && stream.isPaused()) stream.resume();
    };
    void this.respond();
  }

  private onData(chunk: Uint8Array): void {
    if (this.done) return;
    try {
      for (const frame of this.reader.push(chunk)) {
        this.requests.push(decodeRequest(frame));
      }
    } catch (e) {
      // The request side is broken: the PipelineStream fails the stream with it.
      this.requests.fail(e);
      return;
    }
    // Backpressure: the PipelineStream stops taking requests while too many calls are
    // unanswered; stop reading until it takes again, and HTTP/2 flow control holds the client.
    if (this.requests.size >= READ_AHEAD) this.stream.pause();
  }

  /** Writes the PipelineStream's response messages, then the stream's status. */
  private async respond(): Promise<void> {
    let error: ConnectError | undefined;
    try {
      const out = pipelineResponses(this.calls, this.o, this.requests, this.closed.signal);
      for await (const m of out) {
        if (this.done) break;
        const bytes = encodePipelineResponse(m.results);
        if (!this.stream.write(envelope(bytes))) await this.drained();
      }
    } catch (e) {
      error = ConnectError.from(e);
    }
    this.finish(error);
  }

  /** Resolves once the stream takes writes again (or closes). */
  private drained(): Promise<void> {
    return new Promise((resolve) => {
      const go = (): void => {
        this.stream.off("drain", go);
        this.stream.off("close", go);
        resolve();
      };
      this.stream.on("drain", go);
      this.stream.on("close", go);
    });
  }

  /** Ends the stream with OK or `error`, in the protocol's own way. */
  private finish(error: ConnectError | undefined): void {
    if (this.done || this.stream.destroyed || this.stream.writableEnded) return;
    this.done = true;
    if (this.wire === "grpc") {
      this.trailers = error ? statusTrailers(error.code, error.rawMessage) : statusTrailers(0);
      this.stream.end();
    } else {
      const body = endStream.serialize({ metadata: new Headers(), error });
      const framed = envelope(body);
      framed[0] = endStreamFlag;
      this.stream.end(framed);
    }
    // Requests still arriving are read and dropped.
    this.stream.resume();
  }
}

function decodeRequest(frame: Uint8Array): PipelineRequest {
  try {
    return decodePipelineRequestFast(frame) ?? fromBinary(PipelineRequestSchema, frame);
  } catch (e) {
    throw new ConnectError(
      `malformed PipelineRequest: ${e instanceof Error ? e.message : String(e)}`,
      Code.InvalidArgument,
    );
  }
}
