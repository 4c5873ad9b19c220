// WatchService through the network client over real HTTP/2 on 127.0.0.1, with the in-memory
// fake API: options arrive intact, history then live batches, progress on demand, the server's
// cancellations arrive as WatchCanceledError, and a broken stream (server closed, node stopped)
// resumes on another endpoint from the last revision + 1 with no gap and no duplicate.
import {
  createClient,
  InvalidArgumentError,
  type MemberList,
  type NetworkClient,
  text,
  toBytes,
  type WatchBatch,
  WatchCanceledError,
  type WatchEvent,
} from "@d-engine/client";
import { describe, expect, it } from "vitest";
import type { NodeServer } from "../server/node-server.js";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { waitFor } from "../testing/wait.js";

const cleanups = cleanupsAfterEach();

function serve(api: FakeApi): Promise<NodeServer> {
  return serveFakeApi(api, cleanups, { asLeader: true });
}

function client(endpoints: string[], protocol: "connect" | "grpc" = "connect"): NetworkClient {
  const c = createClient({ endpoints, protocol, retry: { initialDelayMs: 5, maxDelayMs: 50 } });
  cleanups.push(() => c.close());
  return c;
}

let rev = 0;
function put(key: string, value: string, prev?: string): WatchEvent {
  rev++;
  const kv = (v: string, r: number) => ({
    key: toBytes(key),
    value: toBytes(v),
    createRevision: 1,
    modRevision: r,
    version: 1,
    lease: 0,
  });
  return prev === undefined
    ? { type: "put", kv: kv(value, rev) }
    : { type: "put", kv: kv(value, rev), prevKv: kv(prev, rev - 1) };
}

function show(b: WatchBatch): string {
  if (b.progress) return `${b.revision} progress`;
  return b.events
    .map(
      (e) =>
        `${b.revision} ${e.type} ${text(e.kv.key)}=${text(e.kv.value)}${e.prevKv ? ` prev=${text(e.prevKv.value)}` : ""}`,
    )
    .join(", ");
}

async function pull(it: AsyncIterator<WatchBatch>, n: number): Promise<WatchBatch[]> {
  const out: WatchBatch[] = [];
  while (out.length < n) {
    const r = await it.next();
    if (r.done) throw new Error(`the watch ended after ${out.length} batches`);
    out.push(r.value);
  }
  return out;
}

describe("WatchService", () => {
  for (const protocol of ["connect", "grpc"] as const) {
    it(`streams history then live batches with the options intact, and progress on demand (${protocol})`, async () => {
      const api = new FakeApi(1);
      const server = await serve(api);
      api.watches.emit([put("app/a", "1")]);
      api.watches.emit([put("other", "x")]);
      api.watches.emit([put("app/a", "2", "1"), put("app/b", "1")]);
      const c = client([server.address], protocol);
      const w = c.watch({ prefix: "app/", startRevision: 1, prevKv: true, noDelete: true });
      const it = w[Symbol.asyncIterator]();
      const first = await pull(it, 2);
      expect(first.map(show)).toEqual(["1 put app/a=1", "3 put app/a=2 prev=1, 3 put app/b=1"]);
      const req = api.watches.requests[0];
      expect(req).toMatchObject({ startRevision: 1, prevKv: true, noDelete: true });
      expect(text(toBytes(req?.key ?? ""))).toBe("app/");
      expect(text(toBytes(req?.rangeEnd ?? ""))).toBe("app0");
      api.watches.emit([put("app/c", "1")]);
      expect((await pull(it, 1)).map(show)).toEqual(["4 put app/c=1"]);
      w.requestProgress();
      expect((await pull(it, 1)).map(show)).toEqual(["4 progress"]);
      w.cancel();
      expect(await it.next()).toEqual({ done: true, value: undefined });
      await waitFor(() => api.watches.openCount === 0, "the server to drop the watch");
    });
  }

  it("a watch from now starts after the current revision", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    api.watches.emit([put("k", "old")]);
    const c = client([server.address]);
    const it = c.watch({ key: "k" })[Symbol.asyncIterator]();
    const next = it.next();
    await waitFor(() => api.watches.openCount === 1, "the watch to open");
    api.watches.emit([put("k", "new")]);
    expect(show((await next).value as WatchBatch)).toBe("2 put k=new");
    expect(api.watches.requests[0]?.startRevision).toBeUndefined();
  });

  it("the server's cancellations arrive as WatchCanceledError; bad requests as InvalidArgumentError", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    api.watches.compactRevision = 5;
    const c = client([server.address]);
    const err = await c
      .watch({ key: "k", startRevision: 3 })
      [Symbol.asyncIterator]()
      .next()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect(err).toMatchObject({ reason: "compacted", compactRevision: 5 });
    const slow = c.watch({ key: "k" })[Symbol.asyncIterator]();
    const pending = slow.next().catch((e: unknown) => e);
    await waitFor(() => api.watches.openCount === 1, "the watch to open");
    api.watches.endAll(new WatchCanceledError("slow consumer"));
    const e2 = await pending;
    expect(e2).toBeInstanceOf(WatchCanceledError);
    expect((e2 as WatchCanceledError).reason).toBe("slow consumer");
    expect(() => c.watch({ key: "" })).toThrow(InvalidArgumentError);
  });

  it("a broken stream resumes on another endpoint from the last revision + 1: no gap, no duplicate", async () => {
    const apis = [new FakeApi(1), new FakeApi(2)];
    const servers = await Promise.all(apis.map(serve));
    // Both nodes hold the same history (they apply the same log).
    const emit = (events: WatchEvent[]) => {
      for (const a of apis) a.watches.emit(events);
    };
    for (let i = 1; i <= 3; i++) emit([put("k", `${i}`)]);
    const c = client(servers.map((s) => s.address));
    const it = c.watch({ key: "k", startRevision: 2 })[Symbol.asyncIterator]();
    const seen = await pull(it, 2);
    const first = apis.findIndex((a) => a.watches.openCount === 1);
    expect(first).toBeGreaterThanOrEqual(0);
    const other = apis[1 - first] as FakeApi;
    // The serving node stops (its watches end as on a node stopping): the client goes on.
    apis[first]?.watches.endAll(new WatchCanceledError("the node stopped"));
    await servers[first]?.close();
    emit([put("k", "4")]);
    emit([put("k", "5")]);
    seen.push(...(await pull(it, 2)));
    expect(seen.map(show)).toEqual(["2 put k=2", "3 put k=3", "4 put k=4", "5 put k=5"]);
    // The resumed watch asked the other node for what came after what it delivered.
    expect(other.watches.requests.at(-1)?.startRevision).toBe(4);
    // And it is live there.
    emit([put("k", "6")]);
    expect((await pull(it, 1)).map(show)).toEqual(["6 put k=6"]);
  });

  it("watchMembers streams the members at once, then each change", async () => {
    const api = new FakeApi(1);
    const server = await serve(api);
    const c = client([server.address]);
    const ctl = new AbortController();
    const lists: MemberList[] = [];
    const done = (async () => {
      for await (const l of c.cluster.watchMembers({ signal: ctl.signal })) lists.push(l);
    })();
    await waitFor(() => lists.length === 1, "the first list");
    expect(lists[0]?.members.map((m) => m.id)).toEqual([1]);
    const two = {
      members: [
        ...api.members,
        {
          id: 2,
          role: "learner" as const,
          clientAddress: "127.0.0.1:3",
          peerAddress: "127.0.0.1:4",
          readOnly: false,
        },
      ],
      leaderId: 1,
    };
    api.watches.members(two);
    await waitFor(() => lists.length === 2, "the change");
    expect(lists[1]).toEqual(two);
    ctl.abort();
    await done;
  });
});
