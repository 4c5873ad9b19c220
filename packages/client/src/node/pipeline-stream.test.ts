// The Node client's hand-written Pipeline stream against raw node:http2 servers on 127.0.0.1
// that answer exactly as each case needs: messages and a clean end in both protocols, an error
// status in each protocol's place, a 404 (a server without Pipeline), a reset, and a cancel.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { createEndStreamSerialization } from "@connectrpc/connect/protocol-connect";
import {
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  PipelineResponseSchema,
} from "@d-engine/proto/api";
import { afterEach, describe, expect, it } from "vitest";
import { AsyncQueue } from "../wire/async-queue.js";
import { END_STREAM_FLAG, EnvelopeReader, envelope } from "../wire/envelopes.js";
import { WindowedSessionManager } from "./http2.js";
import { http2PipelineOpener } from "./pipeline-stream.js";

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type Serve = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => void;

async function server(serve: Serve): Promise<string> {
  const s = http2.createServer();
  s.on("stream", serve);
  const sessions = new Set<http2.ServerHttp2Session>();
  s.on("session", (x) => sessions.add(x));
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const x of sessions) x.destroy();
        s.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

function opener(url: string, protocol: "connect" | "grpc") {
  const m = new WindowedSessionManager(url);
  cleanups.push(() => m.abort());
  return http2PipelineOpener(m, protocol);
}

const req = (id: number): PipelineRequest =>
  create(PipelineRequestSchema, { calls: [{ id: BigInt(id) }] });
const res = (id: number): Uint8Array =>
  envelope(
    toBinary(
      PipelineResponseSchema,
      create(PipelineResponseSchema, { results: [{ id: BigInt(id) }] }),
    ),
  );

/** Answers every request message with a response carrying its first call's id. */
function echo(stream: http2.ServerHttp2Stream, onEnd: () => void): void {
  const reader = new EnvelopeReader(1 << 20);
  stream.on("data", (chunk: Buffer) => {
    for (const f of reader.push(chunk)) {
      const id = Number(fromBinary(PipelineRequestSchema, f).calls[0]?.id ?? 0);
      stream.write(res(id));
    }
  });
  stream.on("end", onEnd);
}

function connectEnd(error?: ConnectError): Uint8Array {
  const body = createEndStreamSerialization(undefined).serialize({
    metadata: new Headers(),
    error,
  });
  const e = envelope(body);
  e[0] = END_STREAM_FLAG;
  return e;
}

/** Sends `ids` as request messages, one after another, then ends; collects what comes back. */
async function run(
  open: ReturnType<typeof opener>,
  ids: number[],
  signal = new AbortController().signal,
): Promise<{ got: number[]; error?: ConnectError }> {
  const requests = new AsyncQueue<PipelineRequest>();
  for (const id of ids) requests.push(req(id));
  requests.end();
  const got: number[] = [];
  try {
    for await (const r of open(requests, signal) as AsyncIterable<PipelineResponse>) {
      got.push(Number(r.results[0]?.id));
    }
    return { got };
  } catch (e) {
    return { got, error: ConnectError.from(e) };
  }
}

describe("the Node client's Pipeline stream on node:http2", () => {
  it("Connect: reads every answer, then the end-of-stream message's OK", async () => {
    const url = await server((stream, headers) => {
      expect(headers["content-type"]).toBe("application/connect+proto");
      stream.respond({ ":status": 200, "content-type": "application/connect+proto" });
      echo(stream, () => stream.end(connectEnd()));
    });
    expect(await run(opener(url, "connect"), [1, 2, 3])).toEqual({ got: [1, 2, 3] });
  });

  it("Connect: an error in the end-of-stream message fails the stream with its code", async () => {
    const url = await server((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/connect+proto" });
      echo(stream, () =>
        stream.end(connectEnd(new ConnectError("bad call", Code.InvalidArgument))),
      );
    });
    const r = await run(opener(url, "connect"), [7]);
    expect(r.got).toEqual([7]);
    expect(r.error?.code).toBe(Code.InvalidArgument);
    expect(r.error?.rawMessage).toBe("bad call");
  });

  it("gRPC: reads every answer, then the trailers' status", async () => {
    for (const status of [0, Code.ResourceExhausted]) {
      const url = await server((stream, headers) => {
        expect(headers["content-type"]).toBe("application/grpc+proto");
        stream.respond(
          { ":status": 200, "content-type": "application/grpc+proto" },
          { waitForTrailers: true },
        );
        stream.on("wantTrailers", () =>
          stream.sendTrailers({ "grpc-status": String(status), "grpc-message": "full%20up" }),
        );
        echo(stream, () => stream.end());
      });
      const r = await run(opener(url, "grpc"), [4, 5]);
      expect(r.got).toEqual([4, 5]);
      if (status === 0) expect(r.error).toBeUndefined();
      else expect([r.error?.code, r.error?.rawMessage]).toEqual([status, "full up"]);
    }
  });

  it("gRPC: a trailers-only answer fails the stream with its status", async () => {
    const url = await server((stream) => {
      stream.respond(
        { ":status": 200, "content-type": "application/grpc+proto", "grpc-status": "12" },
        { endStream: true },
      );
    });
    expect((await run(opener(url, "grpc"), [1])).error?.code).toBe(Code.Unimplemented);
  });

  it("a 404 (a server without Pipeline) reads as Unimplemented, so the client goes unary", async () => {
    const url = await server((stream) => stream.respond({ ":status": 404 }, { endStream: true }));
    for (const protocol of ["connect", "grpc"] as const) {
      const r = await run(opener(url, protocol), [1]);
      expect(r.error?.code, protocol).toBe(Code.Unimplemented);
    }
  });

  it("a reset or a stream cut short fails the stream as Unavailable", async () => {
    const reset = await server((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/connect+proto" });
      stream.write(res(1));
      stream.on("error", () => {}); // its own reset, below
      setImmediate(() => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR));
    });
    const r = await run(opener(reset, "connect"), [1]);
    expect(r.error?.code).toBe(Code.Unavailable);
    const noEnd = await server((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/connect+proto" });
      stream.end(res(1));
    });
    const r2 = await run(opener(noEnd, "connect"), [1]);
    expect(r2.got).toEqual([1]);
    expect([r2.error?.code, r2.error?.rawMessage]).toEqual([
      Code.Unavailable,
      "the pipeline stream ended without a status",
    ]);
  });

  it("an aborted signal cancels the stream on the wire", async () => {
    let serverSawClose!: () => void;
    const closed = new Promise<void>((resolve) => {
      serverSawClose = resolve;
    });
    const url = await server((stream) => {
      stream.respond({ ":status": 200, "content-type": "application/connect+proto" });
      stream.write(res(1));
      stream.on("close", () => serverSawClose());
    });
    const ctl = new AbortController();
    const requests = new AsyncQueue<PipelineRequest>();
    requests.push(req(1));
    const it = (opener(url, "connect")(requests, ctl.signal) as AsyncIterable<PipelineResponse>)[
      Symbol.asyncIterator
    ]();
    expect(Number((await it.next()).value?.results[0]?.id)).toBe(1);
    ctl.abort();
    await expect(it.next()).rejects.toBeInstanceOf(ConnectError);
    await closed;
  });
});
