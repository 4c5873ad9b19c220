// The lease API of a node over a three-node in-memory cluster: grant, time-to-live from the
// leader's monotonic clock, list, keep-alive, revoke; expiry through the log; a keeper that
// keeps a lease alive across a leader failover.
import { createLeaseKeeper, KvCommandError, NotLeaderError, text } from "@d-engine/client";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../testing/cluster.js";
import { eventually, waitFor } from "../testing/wait.js";

describe("leases over a three-node cluster", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("grant, time-to-live, list, keep-alive and revoke; followers redirect", async () => {
    c = await TestCluster.start({ size: 3, seed: 600 });
    const leader = await c.leader();
    const l = leader.api.leases;
    const g = await l.grant(30, { id: 77 });
    expect(g).toEqual({ id: 77, ttlSeconds: 30 });
    await expect(l.grant(30, { id: 77 })).rejects.toMatchObject({ kvCode: "lease-exists" });
    await expect(l.grant(0)).rejects.toThrow(/TTL/);
    const auto = await l.grant(5);
    expect(auto.id).toBeGreaterThan(0);
    await leader.api.put("a", "1", { lease: 77 });
    await leader.api.put("b", "1", { lease: 77 });
    const ttl = await l.timeToLive(77, { keys: true });
    expect(ttl.grantedTtlSeconds).toBe(30);
    expect(ttl.ttlSeconds).toBeGreaterThanOrEqual(28);
    expect(ttl.ttlSeconds).toBeLessThanOrEqual(30);
    expect(ttl.keys.map(text)).toEqual(["a", "b"]);
    expect((await l.timeToLive(4242)).ttlSeconds).toBe(-1);
    expect((await l.list()).map((s) => s.id).sort((x, y) => x - y)).toEqual(
      [auto.id, 77].sort((x, y) => x - y),
    );
    expect(await l.keepAliveOnce(77)).toEqual({ id: 77, ttlSeconds: 30 });
    await expect(l.keepAliveOnce(4242)).rejects.toBeInstanceOf(KvCommandError);
    const follower = c.running().find((n) => n.id !== leader.id);
    await expect(follower?.api.leases.keepAliveOnce(77)).rejects.toBeInstanceOf(NotLeaderError);
    const r = await l.revoke(77);
    expect(r.revision).toBeGreaterThan(0);
    expect(await leader.api.get("a")).toBeUndefined();
    await expect(l.revoke(77)).rejects.toMatchObject({ kvCode: "lease-not-found" });
  });

  it("a lease expires through the log, no earlier than its TTL, on every replica at one revision", async () => {
    c = await TestCluster.start({ size: 3, seed: 610 });
    const leader = await c.leader();
    const sent = performance.now();
    const g = await leader.api.leases.grant(1);
    await leader.api.put("eph", "x", { lease: g.id });
    await waitFor(
      async () => (await leader.api.get("eph")) === undefined,
      "the lease's key to go",
      5_000,
    );
    expect(performance.now() - sent).toBeGreaterThanOrEqual(1_000);
    const rev = leader.status().revision;
    for (const n of c.running()) {
      await waitFor(() => n.status().revision === rev, `node ${n.id} at revision ${rev}`);
      expect(await n.api.get("eph", { consistency: "eventual" })).toBeUndefined();
    }
  });

  it("a keeper keeps a lease alive across a leader failover; the lease ends once it stops", async () => {
    c = await TestCluster.start({
      size: 3,
      seed: 620,
      options: { leases: { checkpointIntervalMs: 200 } },
    });
    const cluster = c;
    const first = await cluster.leader();
    const g = await first.api.leases.grant(1);
    await first.api.put("svc", "up", { lease: g.id });
    // Renew through whoever leads now (a client's routing, in miniature).
    const keeper = createLeaseKeeper(g.id, async (id, call) =>
      (await cluster.leader(2_000)).api.leases.keepAliveOnce(id, call),
    );
    let renewals = 0;
    keeper.on("renewed", () => renewals++);
    await waitFor(() => renewals >= 2, "two renewals");
    await cluster.stopNode(first.id); // a crash: no leadership transfer
    const second = await cluster.leader();
    expect(second.id).not.toBe(first.id);
    // Several TTLs pass with the new leader: the lease and its key live on.
    const before = renewals;
    await waitFor(() => renewals >= before + 8, "eight renewals after the failover", 10_000);
    expect(keeper.stopped).toBe(false);
    const kv = await eventually(() => second.api.get("svc"), "read after failover");
    expect(kv && text(kv.value)).toBe("up");
    expect((await second.api.leases.timeToLive(g.id)).ttlSeconds).toBeGreaterThanOrEqual(0);
    await keeper.stop();
    await waitFor(
      async () => (await second.api.get("svc")) === undefined,
      "the key to go once renewals stop",
      5_000,
    );
  });
});
