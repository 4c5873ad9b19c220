// The Node client's KvService.Pipeline stream on node:http2 directly: request messages go from
// the pipeline (kv-pipeline.ts) into envelopes on the HTTP/2 stream, and response envelopes come
// back the same way (puts and gets written and read by hand, wire/pipeline-codec.ts; the rest
// through protobuf-es), without connect-es's generic streaming pipeline
// (wire/envelopes.ts says why). It speaks the client's protocol on the wire, Connect streaming or
// gRPC, binary and uncompressed, so any server serves it; the d-engine server serves these two by
// hand too (@d-engine/transport's pipeline-server.ts).
//
// Outcomes, as connect-es reports them (KvPipeline reads them the same way): a response message
// each; the end, OK or a ConnectError from the status (gRPC trailers, or Connect's end-of-stream
// message); a non-200 answer as the HTTP status's code (404, a server without Pipeline:
// Unimplemented); a reset or a broken connection as Unavailable.
import * as http2 from "node:http2";
import { fromBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import {
  codeFromHttpStatus,
  createEndStreamSerialization,
} from "@connectrpc/connect/protocol-connect";
import {
  KvService,
  type PipelineRequest,
  type PipelineResponse,
  PipelineResponseSchema,
} from "@d-engine/proto/api";
import type { PipelineOpener } from "../client/kv-pipeline.js";
import { AsyncQueue } from "../wire/async-queue.js";
import { EnvelopeReader, envelope, statusError } from "../wire/envelopes.js";
import { decodePipelineResponseFast, encodePipelineRequest } from "../wire/pipeline-codec.js";
import type { WindowedSessionManager } from "./http2.js";

const PIPELINE_PATH = `/${KvService.typeName}/${KvService.method.pipeline.name}`;

/** The largest response message accepted (as connect-node's default readMaxBytes). */
const MAX_MESSAGE_BYTES = 0xffffffff;

/** Pipeline streams over `manager`'s connection, in `protocol`. */
export function http2PipelineOpener(
  manager: WindowedSessionManager,
  protocol: "connect" | "grpc",
): PipelineOpener {
  return (requests, signal) => new PipelineCall(manager, protocol, requests, signal).responses();
}

const endStream = createEndStreamSerialization(undefined);

class PipelineCall {
  private readonly inbox = new AsyncQueue<PipelineResponse>();
  private readonly grpc: boolean;
  private readonly reader: EnvelopeReader;
  private stream: http2.ClientHttp2Stream | undefined;
  /** The status, once known (gRPC: trailers, or trailers-only headers). */
  private status: ConnectError | "ok" | undefined;

  constructor(
    private readonly manager: WindowedSessionManager,
    protocol: "connect" | "grpc",
    private readonly requests: AsyncIterable<PipelineRequest>,
    private readonly signal: AbortSignal,
  ) {
    this.grpc = protocol === "grpc";
    this.reader = new EnvelopeReader(MAX_MESSAGE_BYTES, !this.grpc);
  }

  async *responses(): AsyncGenerator<PipelineResponse> {
    const onAbort = (): void => this.cancel();
    this.signal.addEventListener("abort", onAbort, { once: true });
    try {
      await this.open();
      yield* this.inbox;
    } finally {
      this.signal.removeEventListener("abort", onAbort);
      // The reader stopped early (or the stream failed): nothing more will be read.
      this.cancel();
    }
  }

  private async open(): Promise<void> {
    let stream: http2.ClientHttp2Stream;
    try {
      stream = await this.manager.request(
        "POST",
        PIPELINE_PATH,
        {
          "content-type": this.grpc ? "application/grpc+proto" : "application/connect+proto",
          ...(this.grpc ? { te: "trailers" } : {}),
        },
        {},
      );
    } catch (e) {
      throw ConnectError.from(e, Code.Unavailable);
    }
    this.stream = stream;
    if (this.signal.aborted) {
      this.cancel();
      throw new ConnectError("the pipeline stream was cancelled", Code.Canceled);
    }
    stream.on("response", (headers) => this.onHeaders(headers));
    stream.on("trailers", (trailers) => {
      this.status = statusError(trailers) ?? "ok";
    });
    stream.on("data", (chunk: Buffer) => this.onData(chunk));
    stream.on("end", () => this.onEnd());
    stream.on("error", (e) => this.fail(ConnectError.from(e, Code.Unavailable)));
    stream.on("close", () => this.onEnd());
    void this.send(stream);
  }

  /** Writes the request messages as they come, then half-closes. */
  private async send(stream: http2.ClientHttp2Stream): Promise<void> {
    try {
      for await (const m of this.requests) {
        if (stream.destroyed) return;
        if (!stream.write(envelope(encodePipelineRequest(m)))) await drained(stream);
      }
      if (!stream.destroyed) stream.end();
    } catch (e) {
      this.fail(ConnectError.from(e, Code.Internal));
      this.cancel();
    }
  }

  private onHeaders(headers: http2.IncomingHttpHeaders): void {
    const status = Number(headers[":status"]);
    if (status !== 200) {
      this.fail(new ConnectError(`HTTP ${status}`, codeFromHttpStatus(status)));
      return;
    }
    // gRPC's trailers-only answer: the status is in the headers, no message follows.
    if (this.grpc && headers["grpc-status"] !== undefined) {
      this.status = statusError(headers) ?? "ok";
    }
  }

  private onData(chunk: Buffer): void {
    const stream = this.stream as http2.ClientHttp2Stream;
    this.manager.notifyResponseByteRead(stream);
    try {
      for (const frame of this.reader.push(chunk)) {
        this.inbox.push(
          decodePipelineResponseFast(frame) ?? fromBinary(PipelineResponseSchema, frame),
        );
      }
      const end = this.reader.endStream;
      if (end !== undefined && this.status === undefined) {
        this.status = endStream.parse(end).error ?? "ok";
      }
    } catch (e) {
      this.fail(ConnectError.from(e, Code.Internal));
      this.cancel();
    }
  }

  /** The response side ended (or the stream closed): the status decides how. */
  private onEnd(): void {
    const s = this.status;
    if (s === "ok") this.inbox.end();
    else if (s !== undefined) this.inbox.fail(s);
    else if (this.reader.pending > 0) {
      this.inbox.fail(new ConnectError("the stream ended inside a message", Code.Unavailable));
    } else {
      this.inbox.fail(
        new ConnectError("the pipeline stream ended without a status", Code.Unavailable),
      );
    }
  }

  private fail(e: ConnectError): void {
    if (this.status === undefined || this.status === "ok") this.status = e;
    this.inbox.fail(e);
  }

  private cancel(): void {
    const s = this.stream;
    if (s && !s.destroyed) s.close(http2.constants.NGHTTP2_CANCEL);
  }
}

/** Resolves once `stream` takes writes again (or closes). */
function drained(stream: http2.ClientHttp2Stream): Promise<void> {
  return new Promise((resolve) => {
    const go = (): void => {
      stream.off("drain", go);
      stream.off("close", go);
      resolve();
    };
    stream.on("drain", go);
    stream.on("close", go);
  });
}
