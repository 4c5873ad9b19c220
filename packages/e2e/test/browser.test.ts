// The browser client against real server processes: @d-engine/client's browser entry
// (connect-web on fetch, which speaks HTTP/1.1 to a cleartext port) reaches a three-node cluster
// on the nodes' own ports, starting from a follower: writes follow the leader, reads, a watch and
// leases work, a Node client on HTTP/2 sees the same data, and CORS answers only the origin the
// nodes were started with (--allowed-origins).
import { createClient as createNodeClient, type NetworkClient, text } from "@d-engine/client";
import { createClient as createBrowserClient } from "@d-engine/client/browser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";

const APP = "https://app.example";

let cluster: LocalCluster;
let web: NetworkClient;
let node: NetworkClient;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3, args: ["--allowed-origins", APP] });
  const leader = await cluster.waitForLeader();
  const follower = [...cluster.nodes.values()].find((n) => n.id !== leader)!;
  // Only a follower's address: the client must learn and follow the leader's.
  web = createBrowserClient({ endpoints: [`http://${follower.address}`], timeoutMs: 10_000 });
  node = createNodeClient({ endpoints: cluster.endpoints, timeoutMs: 10_000 });
});

afterAll(async () => {
  await web?.close();
  await node?.close();
  await cluster?.stop();
});

describe("the browser client against a three-process cluster", () => {
  it("writes through a follower to the leader and reads at every consistency", async () => {
    const put = await web.put("web/greeting", "hello");
    expect(put.revision).toBeGreaterThan(0);
    for (const consistency of ["linearizable", "lease"] as const) {
      const kv = await web.get("web/greeting", { consistency });
      expect(kv && text(kv.value)).toBe("hello");
      expect(kv?.modRevision).toBe(put.revision);
    }
    // The Node client, on HTTP/2 to the same ports, sees the same write.
    const seen = await node.get("web/greeting");
    expect(seen?.modRevision).toBe(put.revision);
  });

  it("watches a prefix over a server stream", async () => {
    const start = await node.put("web/w/0", "zero");
    const w = web.watch({ prefix: "web/w/", startRevision: start.revision });
    const it = w[Symbol.asyncIterator]();
    const got: string[] = [];
    const written = [start.revision];
    for (let i = 1; i <= 3; i++) written.push((await node.put(`web/w/${i}`, `v${i}`)).revision);
    while (got.length < 4) {
      const r = await it.next();
      if (r.done) throw new Error(`the watch ended after ${got.length} events`);
      for (const e of r.value.events) got.push(`${e.kv.modRevision} ${text(e.kv.key)}`);
    }
    expect(got).toEqual(written.map((rev, i) => `${rev} web/w/${i}`));
    w.cancel();
  });

  it("grants a lease, attaches a key, renews and revokes it", async () => {
    const lease = await web.leases.grant(30);
    expect(lease.id).toBeGreaterThan(0);
    await web.put("web/leased", "x", { lease: lease.id });
    const renewed = await web.leases.keepAliveOnce(lease.id);
    expect(renewed.ttlSeconds).toBeGreaterThan(0);
    await web.leases.revoke(lease.id);
    expect(await node.get("web/leased")).toBeUndefined();
  });

  it("answers CORS for the allowed origin only", async () => {
    for (const n of cluster.nodes.values()) {
      const preflight = (origin: string) =>
        fetch(`http://${n.address}/dengine.api.v1.KvService/Put`, {
          method: "OPTIONS",
          headers: {
            origin,
            "access-control-request-method": "POST",
            "access-control-request-headers": "content-type,connect-protocol-version",
          },
        });
      expect((await preflight(APP)).headers.get("access-control-allow-origin")).toBe(APP);
      expect(
        (await preflight("https://elsewhere.example")).headers.get("access-control-allow-origin"),
      ).toBeNull();
    }
  });
});
