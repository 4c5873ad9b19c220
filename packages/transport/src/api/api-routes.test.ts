// The client SDK against apiRoutes over real HTTP/2 on 127.0.0.1, with an in-memory fake API:
// every call round-trips, typed errors arrive as the same classes, redirects, session reuse,
// cancellation, deadlines, and malformed input.
import * as http2 from "node:http2";
import {
  CompactedError,
  createClient,
  InvalidArgumentError,
  KvCommandError,
  LimitExceededError,
  MembershipError,
  type NetworkClient,
  NotLeaderError,
  ResourceExhaustedError,
  TimeoutError,
  text,
  UnavailableError,
} from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { type NodeServer, startNodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { deferred, nullPeerHandler, waitFor } from "../testing/wait.js";

const cleanups = cleanupsAfterEach();

function serve(api: FakeApi, limits?: { maxValueBytes: number }): Promise<NodeServer> {
  return serveFakeApi(api, cleanups, limits ? { limits } : {});
}

function client(opts: Parameters<typeof createClient>[0]): NetworkClient {
  const c = createClient(opts);
  cleanups.push(() => c.close());
  return c;
}

/** A leader fake serving on its own port, which it names as the leader. */
async function leader(): Promise<{ api: FakeApi; server: NodeServer }> {
  const api = new FakeApi(1);
  const server = await serve(api);
  api.leaderInfo = { leaderId: 1, leaderAddress: server.address, term: 3 };
  return { api, server };
}

describe("apiRoutes through createClient", () => {
  // The Node client pipelines KV calls by default; `pipeline: false` keeps the unary RPCs tested.
  for (const [protocol, pipeline] of [
    ["connect", true],
    ["grpc", true],
    ["connect", false],
  ] as const) {
    it(`round-trips every key-value call (${protocol}, ${pipeline ? "pipelined" : "unary"})`, async () => {
      const { api, server } = await leader();
      const c = client({ endpoints: [server.address], protocol, pipeline });

      const p1 = await c.put("a", "1");
      expect(p1).toEqual({ revision: 1, lease: 0 });
      const p2 = await c.put("a", "2", { prevKv: true });
      expect(p2.revision).toBe(2);
      expect(text(p2.prevKv?.value ?? new Uint8Array())).toBe("1");
      const p3 = await c.put("b/1", "x", { ttlSeconds: 10 });
      expect(p3.lease).toBe(1003);
      await c.put("b/2", "y");

      const a = await c.get("a", { consistency: "lease" });
      expect(a && text(a.value)).toBe("2");
      expect(a).toMatchObject({ createRevision: 1, modRevision: 2, version: 2 });
      expect(await c.get("missing")).toBeUndefined();

      const many = await c.getMany(["a", "nope", "b/2"], { consistency: "eventual" });
      expect(many.kvs.map((kv) => (kv ? text(kv.value) : undefined))).toEqual([
        "2",
        undefined,
        "y",
      ]);

      const pre = await c.prefix("b/", { sortOrder: "descend", limit: 1 });
      expect(pre.kvs.map((kv) => text(kv.key))).toEqual(["b/2"]);
      expect(pre).toMatchObject({ more: true, count: 2 });
      const all = await c.range({ key: "a", rangeEnd: "\0", keysOnly: true });
      expect(all.kvs.map((kv) => text(kv.key))).toEqual(["a", "b/1", "b/2"]);
      expect(all.kvs[0]?.value.length).toBe(0);
      const everything = await c.prefix("");
      expect(everything.count).toBe(3);

      const cas1 = await c.compareAndSwap("c", undefined, "new");
      expect(cas1.succeeded).toBe(true);
      const cas2 = await c.compareAndSwap("c", "wrong", "x");
      expect(cas2.succeeded).toBe(false);
      expect(cas2.prevKv && text(cas2.prevKv.value)).toBe("new");

      const t = await c.txn({
        compare: [{ key: "a", target: "value", result: "=", value: "2" }],
        success: [
          { type: "put", key: "t", value: "v", prevKv: true },
          { type: "get", key: "b/", rangeEnd: "b0", limit: 1 },
          { type: "delete", key: "c", prevKv: true },
        ],
        failure: [{ type: "get", key: "a" }],
      });
      expect(t.succeeded).toBe(true);
      expect(t.results.map((r) => r.type)).toEqual(["put", "get", "delete"]);
      const g = t.results[1];
      expect(g?.type === "get" && g.kvs.length === 1 && g.more && g.count === 2).toBe(true);
      const d = t.results[2];
      expect(
        d?.type === "delete" && d.deleted === 1 && text(d.prevKvs[0]?.value ?? new Uint8Array()),
      ).toBe("new");
      const t2 = await c.txn({
        compare: [{ key: "a", target: "version", result: ">", number: 5 }],
        success: [],
        failure: [{ type: "get", key: "a" }],
      });
      expect(t2.succeeded).toBe(false);

      const del = await c.delete("b/", { prefix: true, prevKv: true });
      expect(del.deleted).toBe(2);
      expect(del.prevKvs.map((kv) => text(kv.key))).toEqual(["b/1", "b/2"]);
      expect((await c.compact(3)).revision).toBeGreaterThanOrEqual(3);
      // Each call reached the API once, with the signal it can be cancelled by.
      expect(api.calls.filter((x) => x.method === "put").length).toBe(4);
      expect(api.calls.find((x) => x.method === "get")?.opts).toHaveProperty("signal");
    });
  }

  it("round-trips the cluster and maintenance calls", async () => {
    const { api, server } = await leader();
    const c = client({ endpoints: [server.address] });
    expect(await c.cluster.members()).toEqual({ members: api.members, leaderId: 1 });
    const added = await c.cluster.addLearner({
      id: 4,
      clientAddress: "127.0.0.1:7004",
      peerAddress: "127.0.0.1:8004",
      readOnly: true,
    });
    expect(added.members.find((m) => m.id === 4)).toEqual({
      id: 4,
      role: "learner",
      clientAddress: "127.0.0.1:7004",
      peerAddress: "127.0.0.1:8004",
      readOnly: true,
    });
    expect((await c.cluster.promote(4)).members.find((m) => m.id === 4)?.role).toBe("voter");
    expect((await c.cluster.removeMember(4)).members.some((m) => m.id === 4)).toBe(false);
    expect(await c.cluster.transferLeader(3)).toEqual({ leaderId: 3 });
    expect(await c.cluster.transferLeader()).toEqual({ leaderId: 2 });
    expect(await c.cluster.leader()).toEqual({
      leaderId: 1,
      leaderAddress: server.address,
      term: 3,
    });
    const st = await c.cluster.status({ endpoint: server.address });
    expect(st).toMatchObject({ id: 1, clusterId: "test", role: "leader", lastIndex: 11 });
    expect(st.matchIndex).toEqual({ 2: 9, 3: 11 });

    // A few MB, so the download spans several messages (the server re-cuts to 1 MiB).
    api.snapshot = new Uint8Array(3_300_000).map((_, i) => (i * 7) & 0xff);
    expect(await c.maintenance.takeSnapshot()).toEqual({ index: 10, term: 3, bytes: 3_300_000 });
    const chunks: Uint8Array[] = [];
    for await (const ch of c.maintenance.downloadSnapshot({ fresh: true })) chunks.push(ch);
    expect(chunks.length).toBeGreaterThanOrEqual(4);
    expect(Buffer.concat(chunks).equals(Buffer.from(api.snapshot))).toBe(true);
    expect(api.calls.find((x) => x.method === "downloadSnapshot")?.opts).toMatchObject({
      fresh: true,
    });
  });

  it("delivers typed errors with their fields", async () => {
    const { api, server } = await leader();
    const c = client({ endpoints: [server.address], timeoutMs: 2000 });

    api.before = (m) => {
      if (m === "status") throw new NotLeaderError(7, "10.0.0.7:2379");
    };
    const nl = await c.cluster.status({ endpoint: server.address }).catch((e) => e);
    expect(nl).toBeInstanceOf(NotLeaderError);
    expect(nl).toMatchObject({
      leaderId: 7,
      leaderAddress: "10.0.0.7:2379",
      outcomeUnknown: false,
    });

    api.before = (m) => {
      if (m === "put") throw new ResourceExhaustedError(60_000, "too many pending writes");
    };
    const re = await c.put("k", "v").catch((e) => e);
    expect(re).toBeInstanceOf(ResourceExhaustedError);
    expect(re.retryAfterMs).toBe(60_000);
    expect(re.message).toContain("too many pending writes");

    const kinds: [Error, new (...a: never[]) => Error][] = [
      [new KvCommandError("lease-not-found", "lease 9 not found"), KvCommandError],
      [new CompactedError("revision 3 is compacted"), CompactedError],
      [new MembershipError("a change is in progress"), MembershipError],
    ];
    for (const [thrown, cls] of kinds) {
      api.before = () => {
        throw thrown;
      };
      const e = await c.put("k", "v").catch((x) => x);
      expect(e).toBeInstanceOf(cls);
      expect(e.message).toBe(thrown.message);
    }
    const kv = await (async () => {
      api.before = () => {
        throw new KvCommandError("duplicate-key", "dup");
      };
      return c.txn({ compare: [], success: [] }).catch((x) => x);
    })();
    expect(kv.kvCode).toBe("duplicate-key");

    // An error that is no DEngineError reaches the client as internal, outcome unknown.
    api.before = () => {
      throw new RangeError("boom");
    };
    const internal = await c.put("k", "v").catch((x) => x);
    expect(internal).toMatchObject({ code: "internal", outcomeUnknown: true });
    expect(internal.message).toContain("boom");
    api.before = undefined;

    // Validation on the server names the field.
    const bad = await c.put("", "v").catch((x) => x);
    expect(bad).toBeInstanceOf(InvalidArgumentError);
    expect(bad.message).toContain("key is required");
  });

  it("checks limits on both sides, naming the limit", async () => {
    const api = new FakeApi(1);
    const server = await serve(api, { maxValueBytes: 100 });
    api.leaderInfo = { leaderId: 1, leaderAddress: server.address, term: 1 };
    // The server's limit is smaller than the client's: the server refuses.
    const c = client({ endpoints: [server.address] });
    const e = await c.put("k", new Uint8Array(101)).catch((x) => x);
    expect(e).toBeInstanceOf(LimitExceededError);
    expect(e).toMatchObject({ limitName: "maxValueBytes", limit: 100, actual: 101 });
    expect(api.calls.some((x) => x.method === "put")).toBe(false);
    // The client's own limit refuses before sending anything.
    const strict = client({ endpoints: [server.address], limits: { maxTxnOps: 2 } });
    const before = api.calls.length;
    const t = await strict
      .txn({ compare: [], success: [1, 2, 3].map((i) => ({ type: "get", key: `k${i}` }) as const) })
      .catch((x) => x);
    expect(t).toMatchObject({ limitName: "maxTxnOps", limit: 2, actual: 3 });
    expect(api.calls.length).toBe(before);
  });

  it("redirects a write from a follower to the leader the error names", async () => {
    const { api: lead, server: leadServer } = await leader();
    const follower = new FakeApi(2);
    const followerServer = await serve(follower);
    // The follower believes it leads (a stale view): discovery picks it, the put redirects.
    follower.leaderInfo = { leaderId: 2, leaderAddress: followerServer.address, term: 2 };
    follower.notLeader = { id: 1, address: leadServer.address };
    const c = client({ endpoints: [followerServer.address] });
    const r = await c.put("k", "v");
    expect(r.revision).toBe(1);
    const fPut = follower.calls.find((x) => x.method === "put");
    const lPut = lead.calls.find((x) => x.method === "put");
    const sessionOf = (c: typeof fPut): unknown =>
      (c?.opts as { session?: unknown } | undefined)?.session;
    expect(sessionOf(fPut)).toBeTruthy();
    expect(sessionOf(lPut)).toEqual(sessionOf(fPut));
    // Later writes go straight to the leader.
    await c.put("k2", "v");
    expect(follower.calls.filter((x) => x.method === "put").length).toBe(1);
  });

  it("retries a write whose answer was lost with the same session, applying it once", async () => {
    const { api, server } = await leader();
    const c = client({ endpoints: [server.address], clientId: "client-A" });
    await c.put("first", "1");
    let lost = 0;
    api.after = () => {
      if (lost++ === 0) throw new UnavailableError("the answer was lost", true);
    };
    const r = await c.put("k", "v");
    const puts = api.calls
      .filter((x) => x.method === "put")
      .map((x) => (x.opts as { session: unknown }).session);
    expect(puts.length).toBe(3);
    expect(puts[1]).toMatchObject({ clientId: "client-A", sequence: 2 });
    expect(puts[2] as { clientId: string; sequence: number }).toMatchObject({
      clientId: "client-A",
      sequence: 2,
    });
    expect(api.applied).toBe(2);
    expect(r.revision).toBe(2);
  });

  it("sends eventual reads to any endpoint and linearizable reads to the leader", async () => {
    const { api: lead, server: leadServer } = await leader();
    const follower = new FakeApi(2);
    const followerServer = await serve(follower);
    follower.leaderInfo = { leaderId: 1, leaderAddress: leadServer.address, term: 3 };
    const c = client({ endpoints: [followerServer.address, leadServer.address] });
    for (let i = 0; i < 4; i++) await c.get("k", { consistency: "eventual" });
    expect(follower.calls.filter((x) => x.method === "get").length).toBe(2);
    expect(lead.calls.filter((x) => x.method === "get").length).toBe(2);
    await c.get("k");
    await c.get("k", { consistency: "lease" });
    expect(follower.calls.filter((x) => x.method === "get").length).toBe(2);
    expect(lead.calls.filter((x) => x.method === "get").length).toBe(4);
    // A client-wide default consistency is sent with each read.
    const ev = client({ endpoints: [leadServer.address], consistency: "eventual" });
    await ev.get("k");
    expect(lead.calls.at(-1)?.opts).toMatchObject({ consistency: "eventual" });
  });

  it("gives up on a write at the deadline with outcomeUnknown and the session to retry with", async () => {
    const { api, server } = await leader();
    const c = client({ endpoints: [server.address], timeoutMs: 300, clientId: "w" });
    api.before = (m) => {
      if (m === "put") throw new UnavailableError("leader lost mid-write", true);
    };
    const e = await c.put("k", "v").catch((x) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.outcomeUnknown).toBe(true);
    expect(e.message).toContain("leader lost mid-write");
    expect(e.session).toMatchObject({ clientId: "w", sequence: 1 });
    const attempts = api.calls.filter((x) => x.method === "put");
    expect(attempts.length).toBeGreaterThan(1);
    // Retrying with the error's session reuses it (and it applies once).
    api.before = undefined;
    await c.put("k", "v", { session: e.session });
    await c.put("k", "v", { session: e.session });
    expect(api.applied).toBe(1);
    expect(api.calls.at(-1)?.opts).toMatchObject({ session: { clientId: "w", sequence: 1 } });
  });

  it("reports a write to a node nobody listens on as not applied", async () => {
    const dead = await startNodeServer({
      host: "127.0.0.1",
      port: 0,
      identity: { clusterId: "t", nodeId: 1, address: "x:1" },
      peerHandler: nullPeerHandler,
      api: new FakeApi(1),
    });
    const address = dead.address;
    await dead.close();
    const c = client({ endpoints: [address], timeoutMs: 200 });
    const e = await c.put("k", "v").catch((x) => x);
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.outcomeUnknown).toBe(false);
    expect(e.message).toMatch(/no leader found|ECONNREFUSED/);
  });

  it("cancels with AbortSignal and enforces deadlines; a stopped write's outcome is unknown", async () => {
    const { api, server } = await leader();
    const c = client({ endpoints: [server.address] });
    const arrived = deferred();
    let serverSignal: AbortSignal | undefined;
    api.before = async (_m, opts) => {
      serverSignal = (opts as { signal?: AbortSignal }).signal;
      arrived.resolve();
      // Hangs until the caller goes away.
      await new Promise((_, reject) =>
        serverSignal?.addEventListener("abort", () => reject(new Error("gone"))),
      );
    };
    const ctl = new AbortController();
    const pending = c.put("k", "v", { signal: ctl.signal }).catch((e) => e);
    await arrived.promise;
    ctl.abort();
    const e = await pending;
    expect(e).toBeInstanceOf(TimeoutError);
    expect(e.message).toContain("cancelled");
    expect(e.outcomeUnknown).toBe(true);
    expect(e.session).toMatchObject({ clientId: c.clientId, sequence: 1 });
    await waitFor(() => serverSignal?.aborted === true, "the server to see the cancel");

    const started = performance.now();
    const t = await c.get("k", { timeoutMs: 150 }).catch((x) => x);
    expect(t).toBeInstanceOf(TimeoutError);
    expect(t.outcomeUnknown).toBe(false);
    expect(performance.now() - started).toBeLessThan(2000);
    // The server saw the deadline too (connect-timeout-ms): its signal ends.
    await waitFor(() => serverSignal?.aborted === true, "the server to see the deadline");
    api.before = undefined;
    expect((await c.put("k", "v")).revision).toBe(1);
  });

  it("answers malformed bodies with InvalidArgument, unknown methods with 404, and keeps serving", async () => {
    const { server } = await leader();
    const session = http2.connect(`http://${server.address}`);
    cleanups.push(() => {
      session.close();
    });
    const request = (
      path: string,
      headers: http2.OutgoingHttpHeaders,
      body: Uint8Array,
    ): Promise<{ status: number; body: string; trailers: http2.IncomingHttpHeaders }> =>
      new Promise((resolve, reject) => {
        const req = session.request({ ":method": "POST", ":path": path, ...headers });
        let status = 0;
        let trailers: http2.IncomingHttpHeaders = {};
        const parts: Buffer[] = [];
        req.on("response", (h) => {
          status = Number(h[":status"]);
          trailers = { ...h };
        });
        req.on("trailers", (t) => {
          trailers = { ...trailers, ...t };
        });
        req.on("data", (d: Buffer) => parts.push(d));
        req.on("end", () => resolve({ status, body: Buffer.concat(parts).toString(), trailers }));
        req.on("error", reject);
        req.end(body);
      });
    const garbage = new Uint8Array([0xff, 0xff, 0xff, 0xff, 0x0f, 0x07]);

    const connect = await request(
      "/dengine.api.v1.KvService/Put",
      { "content-type": "application/proto", "connect-protocol-version": "1" },
      garbage,
    );
    expect(connect.status).toBe(400);
    expect(JSON.parse(connect.body)).toMatchObject({ code: "invalid_argument" });
    expect(JSON.parse(connect.body).message).toContain("malformed request");

    const envelope = new Uint8Array(5 + garbage.length);
    new DataView(envelope.buffer).setUint32(1, garbage.length);
    envelope.set(garbage, 5);
    const grpc = await request(
      "/dengine.api.v1.KvService/Put",
      { "content-type": "application/grpc", te: "trailers" },
      envelope,
    );
    expect(grpc.trailers["grpc-status"]).toBe("3");
    expect(decodeURIComponent(String(grpc.trailers["grpc-message"]))).toContain(
      "malformed request",
    );
    expect(grpc.trailers["grpc-status-details-bin"]).toBeTruthy();

    const unknown = await request(
      "/dengine.api.v1.KvService/Nope",
      { "content-type": "application/proto" },
      new Uint8Array(0),
    );
    expect(unknown.status).toBe(404);

    const c = client({ endpoints: [server.address] });
    expect((await c.put("still", "serving")).revision).toBe(1);
  });
});
