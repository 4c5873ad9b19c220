// The hand-written Pipeline path (pipeline-server.ts) over real HTTP/2 on 127.0.0.1, with the
// in-memory fake API. pipeline-routes.test.ts drives it in the Connect protocol (what the Node
// client speaks by default); here: the gRPC protocol, a JSON stream left to connect-es, a
// malformed request message in both protocols, and which requests the path takes.
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createEndStreamSerialization, endStreamFlag } from "@connectrpc/connect/protocol-connect";
import {
  createConnectTransport,
  createGrpcTransport,
  Http2SessionManager,
} from "@connectrpc/connect-node";
import { createClient as createDEngineClient } from "@d-engine/client/node";
import { envelope } from "@d-engine/client/wire";
import {
  GetRequestSchema,
  KvService,
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  PipelineResponseSchema,
  PutRequestSchema,
} from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { Channel } from "../util/channel.js";
import { PIPELINE_PATH, pipelineWire } from "./pipeline-server.js";

const cleanups = cleanupsAfterEach();

function transport(address: string, kind: "grpc" | "connect-json"): Transport {
  const baseUrl = `http://${address}`;
  const sessionManager = new Http2SessionManager(baseUrl);
  cleanups.push(() => sessionManager.abort());
  return kind === "grpc"
    ? createGrpcTransport({ baseUrl, sessionManager })
    : createConnectTransport({ baseUrl, httpVersion: "2", useBinaryFormat: false, sessionManager });
}

const request = (id: number, key: string, value?: string): PipelineRequest =>
  create(PipelineRequestSchema, {
    calls: [
      {
        id: BigInt(id),
        request:
          value === undefined
            ? { case: "get", value: create(GetRequestSchema, { key: Buffer.from(key) }) }
            : {
                case: "put",
                value: create(PutRequestSchema, {
                  key: Buffer.from(key),
                  value: Buffer.from(value),
                }),
              },
      },
    ],
  });

/** Sends `reqs` one after another, each once the previous one's answer came; then half-closes. */
async function converse(t: Transport, reqs: PipelineRequest[]): Promise<PipelineResponse[]> {
  const requests = new Channel<PipelineRequest>(10);
  const out: PipelineResponse[] = [];
  const it = createClient(KvService, t).pipeline(requests)[Symbol.asyncIterator]();
  for (const r of reqs) {
    await requests.push(r);
    const next = await it.next();
    expect(next.done).toBe(false);
    out.push(next.value as PipelineResponse);
  }
  requests.end();
  expect((await it.next()).done).toBe(true);
  return out;
}

function gotValue(r: PipelineResponse | undefined): string | undefined {
  const res = r?.results[0]?.result;
  return res?.case === "get" ? Buffer.from(res.value.kv?.value ?? []).toString() : undefined;
}

describe("Pipeline on node:http2", () => {
  for (const kind of ["grpc", "connect-json"] as const) {
    it(`serves a ${kind} stream: answers by id, ends OK after the half-close`, async () => {
      const api = new FakeApi(1);
      const server = await serveFakeApi(api, cleanups);
      const [put, got] = await converse(transport(server.address, kind), [
        request(1, "k", "v1"),
        request(2, "k"),
      ]);
      expect(put?.results.map((r) => [r.id, r.result.case])).toEqual([[1n, "put"]]);
      expect(got?.results[0]?.id).toBe(2n);
      expect(gotValue(got)).toBe("v1");
    });
  }

  for (const protocol of ["connect", "grpc"] as const) {
    it(`serves the Node client's own stream in ${protocol}, both ends by hand`, async () => {
      const api = new FakeApi(1);
      const server = await serveFakeApi(api, cleanups, { asLeader: true });
      const client = createDEngineClient({ endpoints: [server.address], protocol });
      cleanups.push(() => client.close());
      const puts = await Promise.all(["a", "b", "c"].map((k) => client.put(k, `v-${k}`)));
      expect(puts.map((p) => p.revision).sort()).toEqual([1, 2, 3]);
      const got = await Promise.all(["a", "b", "c", "none"].map((k) => client.get(k)));
      expect(got.map((kv) => (kv ? Buffer.from(kv.value).toString() : null))).toEqual([
        "v-a",
        "v-b",
        "v-c",
        null,
      ]);
      // One stream carried them: the fake saw every call, none as a unary RPC of its own.
      expect(api.calls.filter((c) => c.method === "put")).toHaveLength(3);
    });
  }

  it("ends a gRPC stream whose request message is malformed with InvalidArgument", async () => {
    const server = await serveFakeApi(new FakeApi(1), cleanups);
    const r = await rawCall(server.address, "application/grpc+proto", [0xff, 0xff, 0xff]);
    expect(r.headers[":status"]).toBe(200);
    expect(r.trailers["grpc-status"]).toBe(String(Code.InvalidArgument));
    expect(decodeURIComponent(String(r.trailers["grpc-message"]))).toMatch(
      /malformed PipelineRequest/,
    );
  });

  it("ends a Connect stream whose request message is malformed with InvalidArgument", async () => {
    const api = new FakeApi(1);
    await api.put("k", "v");
    const server = await serveFakeApi(api, cleanups);
    // A good message first: its answer stays on the stream before the end.
    const good = envelope(toBinary(PipelineRequestSchema, request(4, "k")));
    const r = await rawCall(server.address, "application/connect+proto", [0xff, 0xff, 0xff], good);
    expect(r.headers["content-type"]).toBe("application/connect+proto");
    const frames = splitEnvelopes(r.body);
    const last = frames.pop();
    expect(last?.flags).toBe(endStreamFlag);
    const end = createEndStreamSerialization(undefined).parse(last?.data ?? new Uint8Array());
    expect(end.error?.code).toBe(Code.InvalidArgument);
    expect(end.error?.rawMessage).toMatch(/malformed PipelineRequest/);
    expect(frames.map((f) => gotValue(fromBinary(PipelineResponseSchema, f.data)))).toEqual(["v"]);
  });

  it("takes binary, uncompressed gRPC and Connect streams without a deadline; leaves the rest", () => {
    expect(pipelineWire({ "content-type": "application/grpc" })).toBe("grpc");
    expect(pipelineWire({ "content-type": "application/grpc+proto" })).toBe("grpc");
    expect(pipelineWire({ "content-type": "application/connect+proto" })).toBe("connect");
    expect(pipelineWire({ "content-type": "application/grpc", "grpc-encoding": "identity" })).toBe(
      "grpc",
    );
    for (const h of [
      { "content-type": "application/connect+json" },
      { "content-type": "application/grpc+json" },
      { "content-type": "application/grpc-web+proto" },
      { "content-type": "application/grpc", "grpc-encoding": "gzip" },
      { "content-type": "application/connect+proto", "connect-content-encoding": "gzip" },
      { "content-type": "application/grpc", "grpc-timeout": "5S" },
      { "content-type": "application/connect+proto", "connect-timeout-ms": "5000" },
      {},
    ]) {
      expect(pipelineWire(h), JSON.stringify(h)).toBeUndefined();
    }
  });
});

interface RawResult {
  headers: http2.IncomingHttpHeaders;
  trailers: http2.IncomingHttpHeaders;
  body: Uint8Array;
}

/**
 * One Pipeline stream by hand: `first` (if any) and, once its answer came, a frame of `garbage`,
 * then the half-close.
 */
function rawCall(
  address: string,
  contentType: string,
  garbage: number[],
  first?: Uint8Array,
): Promise<RawResult> {
  const session = http2.connect(`http://${address}`);
  cleanups.push(() => void session.destroy());
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ":method": "POST",
      ":path": PIPELINE_PATH,
      "content-type": contentType,
      te: "trailers",
    });
    const chunks: Buffer[] = [];
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    stream.on("response", (h) => {
      headers = h;
    });
    stream.on("trailers", (t) => {
      trailers = t;
    });
    const bad = envelope(new Uint8Array(garbage));
    stream.on("data", (c: Buffer) => {
      chunks.push(c);
      if (first && chunks.length === 1) stream.end(bad);
    });
    stream.on("error", reject);
    stream.on("end", () =>
      resolve({ headers, trailers, body: new Uint8Array(Buffer.concat(chunks)) }),
    );
    if (first) stream.write(first);
    else stream.end(bad);
  });
}

function splitEnvelopes(body: Uint8Array): { flags: number; data: Uint8Array }[] {
  const out: { flags: number; data: Uint8Array }[] = [];
  let pos = 0;
  while (pos + 5 <= body.length) {
    const view = new DataView(body.buffer, body.byteOffset + pos);
    const n = view.getUint32(1);
    out.push({ flags: body[pos] as number, data: body.subarray(pos + 5, pos + 5 + n) });
    pos += 5 + n;
  }
  if (pos !== body.length) throw new ConnectError("trailing bytes", Code.Internal);
  return out;
}
