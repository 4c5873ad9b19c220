// The network client's KV pipeline against in-memory servers (createRouterTransport): the calls
// of one turn leave in one message; a server without Pipeline is served unary; a stream that
// breaks mid-flight fails its calls as a broken unary call would, the write is retried with the
// same session on a new stream and applies once; a cancelled call fails at once and the server
// is told.
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createRouterTransport, type Transport } from "@connectrpc/connect";
import {
  ClusterService,
  GetResponseSchema,
  KvService,
  type PipelineRequest,
  type PipelineResult,
  PutResponseSchema,
} from "@d-engine/proto/api";
import { afterEach, describe, expect, it } from "vitest";
import { TimeoutError } from "../errors.js";
import { createNetworkClient, type NetworkClient } from "./network-client.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

type PipelineHandler = (
  reqs: AsyncIterable<PipelineRequest>,
) => AsyncIterable<{ results: PipelineResult[] | object[] }>;

interface Server {
  transport: Transport;
  /** Pipeline streams opened. */
  streams: () => number;
  /** Unary KV calls served. */
  unaryPuts: number;
}

function server(pipeline: PipelineHandler | undefined): Server {
  let streams = 0;
  const s: Server = { transport: undefined as never, streams: () => streams, unaryPuts: 0 };
  const inner = createRouterTransport(({ service }) => {
    service(ClusterService, {
      leader: () => ({ leaderId: 1n, leaderAddress: "127.0.0.1:1", term: 1n }),
    });
    service(KvService, {
      put: () => {
        s.unaryPuts++;
        return { revision: BigInt(100 + s.unaryPuts) };
      },
      ...(pipeline ? { pipeline } : {}),
    });
  });
  s.transport = {
    unary: inner.unary.bind(inner),
    stream: (...args) => {
      streams++;
      return inner.stream(...args);
    },
  };
  return s;
}

function client(
  s: Server,
  opts: { timeoutMs?: number; limits?: { maxValueBytes: number; maxRequestBytes: number } } = {},
): NetworkClient {
  const c = createNetworkClient(
    {
      endpoints: ["127.0.0.1:1"],
      clientId: "client-1",
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
      ...opts,
    },
    { pipeline: true, create: () => s.transport, close: () => {} },
  );
  cleanups.push(() => c.close());
  return c;
}

const ok = (id: bigint, revision: number) => ({
  id,
  result: {
    case: "put" as const,
    value: create(PutResponseSchema, { revision: BigInt(revision) }),
  },
});

describe("the KV pipeline", () => {
  it("sends the calls of one turn in one message and matches the answers by id", async () => {
    const sizes: number[] = [];
    const s = server(async function* (reqs) {
      for await (const req of reqs) {
        if (req.calls.length === 0) continue;
        sizes.push(req.calls.length);
        // Answers in reverse order: the client must match by id, not by position.
        yield {
          results: [...req.calls].reverse().map((c) => ({
            id: c.id,
            result: {
              case: "get" as const,
              value: create(GetResponseSchema, {
                revision: 5n,
                kv: {
                  key: c.request.case === "get" ? c.request.value.key : new Uint8Array(),
                  value: c.request.case === "get" ? c.request.value.key : new Uint8Array(),
                  createRevision: 1n,
                  modRevision: 1n,
                  version: 1n,
                },
              }),
            },
          })),
        };
      }
    });
    const c = client(s);
    const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const got = await Promise.all(keys.map((k) => c.get(k)));
    expect(got.map((kv) => Buffer.from(kv?.value ?? []).toString())).toEqual(keys);
    expect(sizes).toEqual([10]);
    expect(s.streams()).toBe(1);
    // Later calls reuse the stream.
    await c.get("again");
    expect(s.streams()).toBe(1);
    expect(sizes).toEqual([10, 1]);
  });

  it("sends the eventual reads of one turn to one node in one message, the next turn's to the next", async () => {
    const seen: [string, number][] = [];
    const node = (name: string) =>
      server(async function* (reqs) {
        for await (const req of reqs) {
          if (req.calls.length === 0) continue;
          seen.push([name, req.calls.length]);
          yield {
            results: req.calls.map((c) => ({
              id: c.id,
              result: { case: "get" as const, value: create(GetResponseSchema, { revision: 1n }) },
            })),
          };
        }
      });
    const a = node("a");
    const b = node("b");
    const c = createNetworkClient(
      { endpoints: ["127.0.0.1:1", "127.0.0.1:2"], retry: { initialDelayMs: 1, maxDelayMs: 2 } },
      {
        pipeline: true,
        create: (url) => (url.endsWith(":1") ? a.transport : b.transport),
        close: () => {},
      },
    );
    cleanups.push(() => c.close());
    const burst = () =>
      Promise.all([1, 2, 3, 4].map(() => c.get("k", { consistency: "eventual" })));
    await burst();
    await burst();
    await c.get("k", { consistency: "eventual" });
    await c.get("k", { consistency: "eventual" });
    expect(seen).toEqual([
      ["a", 4],
      ["b", 4],
      ["a", 1],
      ["b", 1],
    ]);
  });

  it("cuts a turn's calls into messages of a few MiB", async () => {
    const sizes: number[] = [];
    let revision = 0;
    const s = server(async function* (reqs) {
      for await (const req of reqs) {
        sizes.push(req.calls.length);
        yield { results: req.calls.map((c) => ok(c.id, ++revision)) };
      }
    });
    const mib = 1024 * 1024;
    const c = client(s, { limits: { maxValueBytes: 4 * mib, maxRequestBytes: 5 * mib } });
    const big = new Uint8Array(3 * mib);
    await Promise.all([c.put("a", big), c.put("b", big), c.put("c", big)]);
    // 3 MiB fits; 6 MiB is past the 4 MiB cut, so the first message ends there.
    expect(sizes).toEqual([2, 1]);
  });

  it("falls back to unary calls when the server has no Pipeline", async () => {
    const s = server(undefined);
    const c = client(s);
    const [a, b] = await Promise.all([c.put("a", "1"), c.put("b", "2")]);
    expect([a.revision, b.revision].sort()).toEqual([101, 102]);
    expect(s.streams()).toBe(1);
    expect(s.unaryPuts).toBe(2);
    await c.put("c", "3");
    // Unary from then on: no new stream.
    expect(s.streams()).toBe(1);
    expect(s.unaryPuts).toBe(3);
  });

  it("a stream broken mid-flight: the write is retried with its session on a new stream and applies once", async () => {
    const applied = new Map<string, number>();
    const seen: string[] = [];
    let revision = 0;
    let streamNo = 0;
    const s = server(async function* (reqs) {
      const mine = ++streamNo;
      for await (const req of reqs) {
        const results = [];
        for (const call of req.calls) {
          if (call.request.case !== "put") continue;
          const session = call.request.value.session;
          const k = `${session?.clientId}/${session?.sequence}`;
          seen.push(k);
          if (!applied.has(k)) applied.set(k, ++revision);
          results.push(ok(call.id, applied.get(k) as number));
        }
        // The first stream applies the write, then breaks before answering, with a code that
        // for a unary call would mean "refused, not applied": for a stream it speaks for no call.
        if (mine === 1) throw new ConnectError("message refused", Code.InvalidArgument);
        if (results.length) yield { results };
      }
    });
    const c = client(s);
    const r = await c.put("k", "v");
    expect(r.revision).toBe(1);
    expect(seen).toEqual(["client-1/1", "client-1/1"]);
    expect(applied.size).toBe(1);
    expect(s.streams()).toBe(2);
    // The next write has the next sequence, on the same (second) stream.
    expect((await c.put("k2", "v")).revision).toBe(2);
    expect(s.streams()).toBe(2);
  });

  it("fails a cancelled call at once and tells the server", async () => {
    const cancels: bigint[] = [];
    let started = 0;
    const s = server(async function* (reqs) {
      for await (const req of reqs) {
        started += req.calls.length;
        cancels.push(...req.cancel);
        // Never answers: the call can only end by its cancel.
      }
      yield* [];
    });
    const c = client(s);
    const ctl = new AbortController();
    const pending = c.put("k", "v", { signal: ctl.signal }).catch((e) => e);
    while (started === 0) await new Promise((r) => setImmediate(r));
    ctl.abort();
    const e = await pending;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.session).toMatchObject({ clientId: "client-1", sequence: 1 });
    for (let i = 0; i < 1000 && cancels.length === 0; i++) {
      await new Promise((r) => setImmediate(r));
    }
    expect(cancels).toEqual([1n]);
  });
});
