// The embedded client's lease API on a follower: grant and revoke forwarded to the leader with
// the client's session, keep-alive / time-to-live / list routed there, and a background keeper.
import { text } from "@d-engine/client";
import { afterEach, expect, it } from "vitest";
import { startEmbeddedTrio } from "../testing/embedded-trio.js";
import { waitFor } from "../testing/wait.js";
import type { EmbeddedEngine } from "./embedded-engine.js";

let engines: EmbeddedEngine[] = [];
afterEach(async () => {
  await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
  engines = [];
});

it("a follower's embedded client grants, renews, inspects and revokes leases through the leader", async () => {
  engines = await startEmbeddedTrio({ clusterId: "embedded-leases", seedBase: 1300 });
  const follower = engines.find((e) => !e.node.isLeader) as EmbeddedEngine;
  const c = follower.client;

  const g = await c.leases.grant(1);
  expect(g.ttlSeconds).toBe(1);
  await c.put("svc/x", "up", { lease: g.id });
  expect((await c.leases.list()).map((l) => l.id)).toContain(g.id);
  expect(await c.leases.keepAliveOnce(g.id)).toEqual({ id: g.id, ttlSeconds: 1 });
  const keeper = c.leases.keepAlive(g.id);
  let renewed = 0;
  keeper.on("renewed", () => renewed++);
  // Renewed for several TTLs: the key stays.
  await waitFor(() => renewed >= 7, "seven renewals (over two TTLs)", 10_000);
  const kv = await c.get("svc/x");
  expect(kv && text(kv.value)).toBe("up");
  const ttl = await c.leases.timeToLive(g.id, { keys: true });
  expect(ttl.keys.map(text)).toEqual(["svc/x"]);
  await keeper.stop();
  const r = await c.leases.revoke(g.id);
  expect(r.revision).toBeGreaterThan(kv?.modRevision ?? 0);
  expect(await c.get("svc/x")).toBeUndefined();
  expect((await c.leases.timeToLive(g.id)).ttlSeconds).toBe(-1);
  expect(keeper.stopped).toBe(true);
});
