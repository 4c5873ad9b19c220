// KvService.Pipeline on the wire, driven by a raw connect-node client over real HTTP/2 on
// 127.0.0.1 (and in memory for backpressure), with the in-memory fake API: calls sent together
// are answered together, each by id, exactly as the unary RPC would answer; failures carry the
// unary call's code and ErrorDetail; malformed calls get an error result and the stream goes on;
// a client cancel or a broken stream aborts the calls it started; a closing server answers new
// calls "unavailable" and ends the stream once its calls are answered.
import { create } from "@bufbuild/protobuf";
import { Code, createClient, createRouterTransport, type Transport } from "@connectrpc/connect";
import { createConnectTransport, Http2SessionManager } from "@connectrpc/connect-node";
import { NotLeaderError } from "@d-engine/client";
import {
  ErrorCode,
  GetRequestSchema,
  KvService,
  type PipelineCall,
  type PipelineRequest,
  PipelineRequestSchema,
  type PipelineResponse,
  type PipelineResult,
  PutRequestSchema,
  WriteSessionSchema,
} from "@d-engine/proto/api";
import { describe, expect, it } from "vitest";
import { type NodeServer, startNodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { deferred, nullPeerHandler, waitFor } from "../testing/wait.js";
import { Channel } from "../util/channel.js";
import { apiRoutes } from "./api-routes.js";

const cleanups = cleanupsAfterEach();

async function serve(api: FakeApi): Promise<NodeServer> {
  const server = await serveFakeApi(api, cleanups);
  return server;
}

function http2Transport(address: string): Transport {
  const sessionManager = new Http2SessionManager(`http://${address}`);
  cleanups.push(() => sessionManager.abort());
  return createConnectTransport({
    baseUrl: `http://${address}`,
    httpVersion: "2",
    useBinaryFormat: true,
    sessionManager,
  });
}

/** One raw Pipeline stream: send request messages, read response messages. */
function open(transport: Transport) {
  const requests = new Channel<PipelineRequest>(1000);
  const ctl = new AbortController();
  const responses = createClient(KvService, transport)
    .pipeline(requests, { signal: ctl.signal })
    [Symbol.asyncIterator]();
  cleanups.push(() => ctl.abort());
  const results = new Map<bigint, PipelineResult>();
  const messages: PipelineResponse[] = [];
  let ended: "done" | unknown;
  void (async () => {
    try {
      for (;;) {
        const r = await responses.next();
        if (r.done) break;
        messages.push(r.value);
        for (const x of r.value.results) results.set(x.id, x);
      }
      ended = "done";
    } catch (e) {
      ended = e;
    }
  })();
  return {
    send: (calls: PipelineCall["request"][], ids: number[], cancel: number[] = []) =>
      void requests.push(
        create(PipelineRequestSchema, {
          calls: calls.map((request, i) => ({ id: BigInt(ids[i] as number), request })),
          cancel: cancel.map(BigInt),
        }),
      ),
    results,
    messages,
    ended: () => ended,
    /** Waits for the results of `ids`. */
    async answers(ids: number[]): Promise<PipelineResult[]> {
      await waitFor(() => ids.every((id) => results.has(BigInt(id))), `answers to ${ids}`);
      return ids.map((id) => results.get(BigInt(id)) as PipelineResult);
    },
    end: () => requests.end(),
    abort: () => ctl.abort(),
  };
}

const put = (key: string, value: string, sequence = 0): PipelineCall["request"] => ({
  case: "put",
  value: create(PutRequestSchema, {
    key: Buffer.from(key),
    value: Buffer.from(value),
    ...(sequence
      ? { session: create(WriteSessionSchema, { clientId: "c", sequence: BigInt(sequence) }) }
      : {}),
  }),
});
const get = (key: string): PipelineCall["request"] => ({
  case: "get",
  value: create(GetRequestSchema, { key: Buffer.from(key) }),
});

/** Lets the event loop turn `n` times (in-memory transport: everything pending runs). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
}

describe("KvService.Pipeline", () => {
  it("answers the calls of one message in one message, by id, as the unary calls would", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    await api.put("old", "v0");
    const p = open(http2Transport(server.address));
    p.send([put("a", "1", 1), put("b", "2", 2), get("old")], [10, 11, 12]);
    const [a, b, old] = await p.answers([10, 11, 12]);
    // The fake answers within the turn that started them: one response message for all three.
    expect(p.messages).toHaveLength(1);
    expect(a?.result.case).toBe("put");
    expect(b?.result.case).toBe("put");
    const revs = [a, b].map((r) => (r?.result.case === "put" ? r.result.value.revision : 0n));
    expect(revs.sort()).toEqual([2n, 3n]);
    expect(
      old?.result.case === "get" && Buffer.from(old.result.value.kv?.value ?? []).toString(),
    ).toBe("v0");
    // Each write carried its session to the API, as a unary put does.
    const sessions = api.calls
      .filter((c) => c.method === "put" && c.opts && "session" in c.opts)
      .map((c) => (c.opts as { session: { sequence: number } }).session.sequence);
    expect(sessions.sort()).toEqual([1, 2]);
    // The stream stays open for more.
    p.send([get("a")], [13]);
    const [a2] = await p.answers([13]);
    expect(
      a2?.result.case === "get" && Buffer.from(a2.result.value.kv?.value ?? []).toString(),
    ).toBe("1");
    p.end();
    await waitFor(() => p.ended() === "done", "the stream to end after the half-close");
  });

  it("fails a call with the unary call's code and ErrorDetail, the others unharmed", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    api.before = (m) => {
      if (m === "put") throw new NotLeaderError(7, "10.0.0.7:2379");
    };
    const p = open(http2Transport(server.address));
    p.send([put("x", "1"), get("x")], [1, 2]);
    const [nl, g] = await p.answers([1, 2]);
    expect(nl?.result.case).toBe("error");
    if (nl?.result.case !== "error") return;
    expect(nl.result.value.code).toBe(Code.FailedPrecondition);
    expect(nl.result.value.detail).toMatchObject({
      code: ErrorCode.NOT_LEADER,
      leaderId: 7n,
      leaderAddress: "10.0.0.7:2379",
    });
    expect(g?.result.case).toBe("get");
  });

  it("answers malformed calls with an error naming the problem and keeps serving", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    const hold = deferred();
    api.before = async (m) => {
      if (m === "get") await hold.promise;
    };
    const p = open(http2Transport(server.address));
    p.send([get("held")], [5]);
    await waitFor(() => api.calls.some((c) => c.method === "get"), "the held get to start");
    p.send(
      [{ case: undefined, value: undefined }, put("", "no key"), get("again"), put("k", "v")],
      [1, 2, 5, 3],
    );
    const [none, empty, ok] = await p.answers([1, 2, 3]);
    expect(none?.result.case).toBe("error");
    expect(none?.result.case === "error" && none.result.value.message).toContain(
      "carries no request",
    );
    expect(none?.result.case === "error" && none.result.value.detail?.code).toBe(
      ErrorCode.INVALID_ARGUMENT,
    );
    expect(empty?.result.case === "error" && empty.result.value.message).toContain(
      "key is required",
    );
    expect(ok?.result.case).toBe("put");
    // A repeated id while the first call with it runs: refused, the first one unharmed.
    const dup = await p.answers([5]);
    expect(dup[0]?.result.case === "error" && dup[0].result.value.message).toContain(
      "already in flight",
    );
    p.results.delete(5n);
    hold.resolve();
    const [held] = await p.answers([5]);
    expect(held?.result.case).toBe("get");
    expect(p.ended()).toBeUndefined();
  });

  it("aborts a call the client cancels, and every call of a stream that breaks", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    const signals: AbortSignal[] = [];
    api.before = async (_m, opts) => {
      const signal = (opts as { signal: AbortSignal }).signal;
      signals.push(signal);
      await new Promise((_, reject) =>
        signal.addEventListener("abort", () => reject(signal.reason)),
      );
    };
    const p = open(http2Transport(server.address));
    p.send([put("a", "1"), put("b", "2")], [1, 2]);
    await waitFor(() => signals.length === 2, "both calls to start");
    p.send([], [], [1]);
    await waitFor(() => signals[0]?.aborted === true, "the cancelled call's signal");
    const [cancelled] = await p.answers([1]);
    expect(cancelled?.result.case).toBe("error");
    expect(signals[1]?.aborted).toBe(false);
    // The client goes away: the call still running is aborted too.
    p.abort();
    await waitFor(() => signals[1]?.aborted === true, "the broken stream's call to be aborted");
    // A new stream is served as before.
    api.before = undefined;
    const q = open(http2Transport(server.address));
    q.send([put("c", "3")], [1]);
    expect((await q.answers([1]))[0]?.result.case).toBe("put");
  });

  it("lends a finished call's AbortController to the next call only when nothing can hear it", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    const signals: AbortSignal[] = [];
    let block: ((signal: AbortSignal) => Promise<void>) | undefined;
    api.before = async (_m, opts) => {
      const signal = (opts as { signal: AbortSignal }).signal;
      signals.push(signal);
      await block?.(signal);
    };
    const p = open(http2Transport(server.address));
    const call = async (id: number, cancel: number[] = []) => {
      p.send([put(`k${id}`, "v")], [id], cancel);
      return (await p.answers([id]))[0]?.result.case;
    };
    // Calls that leave nothing listening: one controller serves them all.
    expect(await call(1)).toBe("put");
    expect(await call(2)).toBe("put");
    expect(signals[1]).toBe(signals[0]);

    // A call that leaves a listener behind keeps its controller out of the pool.
    block = async (signal) => signal.addEventListener("abort", () => {});
    expect(await call(3)).toBe("put");
    block = undefined;
    expect(await call(4)).toBe("put");
    expect(signals[3]).not.toBe(signals[2]);
    const reused = signals[3] as AbortSignal;

    // Call 5 runs on call 4's controller; cancelling finished call 4 must not reach it.
    let release!: () => void;
    block = (signal) =>
      new Promise<void>((resolve, reject) => {
        const onAbort = () => reject(signal.reason);
        signal.addEventListener("abort", onAbort, { once: true });
        release = () => {
          signal.removeEventListener("abort", onAbort);
          resolve();
        };
      });
    p.send([put("k5", "v")], [5]);
    await waitFor(() => signals.length === 5, "call 5 to start");
    expect(signals[4]).toBe(reused);
    p.send([], [], [4]);
    p.send([put("k6", "v")], [6]); // after the cancel, on the same stream: the cancel was read
    await waitFor(() => signals.length === 6, "call 6 to start");
    expect(signals[4]?.aborted).toBe(false);

    // Cancelling call 5 aborts it; its aborted controller is never lent again.
    p.send([], [], [5]);
    expect((await p.answers([5]))[0]?.result.case).toBe("error");
    block = undefined;
    expect(await call(7)).toBe("put"); // while call 6 still holds its own controller
    expect(signals[6]?.aborted).toBe(false);
    expect(signals[6]).not.toBe(signals[4]);
    release(); // call 6's
    expect((await p.answers([6]))[0]?.result.case).toBe("put");
  });

  it("stops reading requests while maxInFlight calls are unanswered (backpressure)", async () => {
    const api = new FakeApi(1);
    const transport = createRouterTransport(apiRoutes(api, { pipelineMaxInFlight: 1 }));
    const hold = deferred();
    api.before = async (m) => {
      if (m === "put") await hold.promise;
    };
    const p = open(transport);
    p.send([put("a", "1")], [1]);
    await waitFor(() => api.calls.length === 1, "the put to start");
    p.send([get("a")], [2]);
    await turns(20);
    // The get waits behind the unanswered put.
    expect(api.calls.map((c) => c.method)).toEqual(["put"]);
    hold.resolve();
    const [a, b] = await p.answers([1, 2]);
    expect(a?.result.case).toBe("put");
    expect(b?.result.case).toBe("get");
    expect(api.calls.map((c) => c.method)).toEqual(["put", "get"]);
  });

  it("on server close: new calls fail 'unavailable' (not applied), started ones finish, the stream ends", async () => {
    const api = new FakeApi(1);
    const server = await startNodeServer({
      host: "127.0.0.1",
      port: 0,
      identity: { clusterId: "test", nodeId: 1, address: "127.0.0.1:0" },
      peerHandler: nullPeerHandler,
      api,
      logger: { warn: () => {} },
      shutdownGraceMs: 60_000,
    });
    const hold = deferred();
    api.before = async (m) => {
      if (m === "put") await hold.promise;
    };
    const p = open(http2Transport(server.address));
    p.send([put("a", "1", 1)], [1]);
    await waitFor(() => api.calls.length === 1, "the put to start");
    const closed = server.close();
    p.send([put("b", "2", 2)], [2]);
    const [refused] = await p.answers([2]);
    expect(refused?.result.case === "error" && refused.result.value.detail).toMatchObject({
      code: ErrorCode.UNAVAILABLE,
      outcomeUnknown: false,
    });
    expect(api.calls).toHaveLength(1);
    hold.resolve();
    const [done] = await p.answers([1]);
    expect(done?.result.case).toBe("put");
    await waitFor(() => p.ended() === "done", "the stream to end");
    await closed;
  });
});
