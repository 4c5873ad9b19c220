// Issue 6, test 2: a lease expires only through the log: its keys disappear on every node at
// the same revision (history reads at that revision on each node agree, and a watcher on each
// node sees both deletes in that one revision); keep-alive keeps a lease alive across a leader
// failover (kill -9 of the leader), with the lease and its keys intact.
import { type DEngineClient, text } from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
});

afterAll(async () => {
  await cluster?.stop();
});

/** A client pinned to one node, for that node's local (eventual) state. */
function nodeClient(id: number): DEngineClient {
  return cluster.client({ endpoints: [cluster.node(id).address], timeoutMs: 5_000 });
}

function runningIds(): number[] {
  return [1, 2, 3].filter((id) => cluster.node(id).process.running);
}

/** Settles with `p`, or fails naming `what` after `ms` (a bound, not a synchronization). */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, limit]).finally(() => clearTimeout(timer));
}

/** Watches `prefix` on node `id` from `startRevision` until a batch with deletes arrives. */
function firstDeletes(id: number, prefix: string, startRevision: number) {
  const w = nodeClient(id).watch({ prefix, startRevision });
  return (async () => {
    try {
      for await (const batch of w) {
        const dels = batch.events.filter((e) => e.type === "delete");
        if (dels.length > 0) {
          return { node: id, revision: batch.revision, keys: dels.map((e) => text(e.kv.key)) };
        }
      }
      return undefined;
    } finally {
      w.cancel();
    }
  })();
}

describe("leases", () => {
  it("a lease expires only through the log: its keys go on every node at one revision", async () => {
    const client = cluster.client();
    const sentAt = performance.now();
    const lease = await client.leases.grant(2);
    const first = await client.put("exp/a", "1", { lease: lease.id });
    // A watcher on every node, from the first put on (before the expiry, whenever it comes).
    const watched = runningIds().map((id) => firstDeletes(id, "exp/", first.revision));
    const last = await client.put("exp/b", "2", { lease: lease.id });
    await client.put("exp/keep", "3");
    const ttl = await client.leases.timeToLive(lease.id, { keys: true });
    expect(ttl.grantedTtlSeconds).toBe(2);
    expect(ttl.keys.map(text)).toEqual(["exp/a", "exp/b"]);
    expect(last.revision).toBeGreaterThan(0);

    const gone = await waitFor(
      "the lease's keys to be deleted",
      async () => {
        const r = await client.prefix("exp/");
        return r.kvs.length === 1 ? r : undefined;
      },
      15_000,
    );
    // Not before the TTL (measured from before the grant was sent).
    expect(performance.now() - sentAt).toBeGreaterThanOrEqual(2_000);
    expect(gone.kvs.map((kv) => text(kv.key))).toEqual(["exp/keep"]);
    expect((await client.leases.timeToLive(lease.id)).ttlSeconds).toBe(-1);

    // The deletion is one revision: the first one at which exp/a is gone. Every node agrees on
    // it, and on what was there just before (history reads at a revision, node by node).
    const deletedAt: number[] = [];
    for (const id of runningIds()) {
      const c = nodeClient(id);
      await waitFor(`node ${id} to apply the expiry`, async () => {
        const r = await c.prefix("exp/", { consistency: "eventual" });
        return r.kvs.length === 1;
      });
      const now = await c.prefix("exp/", { consistency: "eventual" });
      let rev = now.revision;
      // Walk back to the revision that deleted the keys (only a few writes happened since).
      while ((await c.get("exp/a", { consistency: "eventual", revision: rev - 1 })) === undefined) {
        rev--;
      }
      const before = await c.prefix("exp/", { consistency: "eventual", revision: rev - 1 });
      const after = await c.prefix("exp/", { consistency: "eventual", revision: rev });
      expect(before.kvs.map((kv) => text(kv.key))).toEqual(["exp/a", "exp/b", "exp/keep"]);
      expect(after.kvs.map((kv) => text(kv.key))).toEqual(["exp/keep"]);
      deletedAt.push(rev);
    }
    expect(new Set(deletedAt).size).toBe(1);
    // Every node's watcher saw both deletes, in that one revision.
    const seen = await within(Promise.all(watched), 15_000, "each watcher to see the deletes");
    for (const s of seen) {
      expect(s, "a watcher ended without deletes").toBeDefined();
      expect(s?.revision).toBe(deletedAt[0]);
      expect(s?.keys).toEqual(["exp/a", "exp/b"]);
    }
    console.log(`lease ${lease.id} expired at revision ${deletedAt[0]} on nodes ${runningIds()}`);
  });

  it("keep-alive keeps a lease and its keys alive across kill -9 of the leader", async () => {
    const client = cluster.client({ timeoutMs: 15_000 });
    const lease = await client.leases.grant(6);
    await client.put("svc/api", "10.0.0.1", { lease: lease.id });
    const keeper = client.leases.keepAlive(lease.id);
    let renewals = 0;
    const stalls: number[] = [];
    keeper.on("renewed", () => renewals++);
    keeper.on("stall", (s) => stalls.push(s.stalledMs));
    try {
      await waitFor("two renewals before the crash", () => renewals >= 2, 20_000);
      const oldLeader = await cluster.waitForLeader();
      const killedAt = performance.now();
      await cluster.kill(oldLeader);
      const newLeader = await cluster.waitForLeader(30_000, oldLeader);
      expect(newLeader).not.toBe(oldLeader);
      const atKill = renewals;
      // Renewals resume with the new leader and continue for well past the TTL.
      await waitFor(
        "renewals for twice the TTL after the failover",
        () => renewals >= atKill + 6 && performance.now() - killedAt >= 12_000,
        45_000,
      );
      expect(keeper.stopped, `keeper lost the lease; stalls ${stalls}`).toBe(false);
      const kv = await client.get("svc/api");
      expect(kv && text(kv.value)).toBe("10.0.0.1");
      expect(kv?.lease).toBe(lease.id);
      const ttl = await client.leases.timeToLive(lease.id);
      expect(ttl.ttlSeconds).toBeGreaterThan(0);
      expect(ttl.grantedTtlSeconds).toBe(6);
      console.log(
        `lease ${lease.id}: node ${oldLeader} killed, node ${newLeader} leads; ${renewals - atKill} renewals since, ${ttl.ttlSeconds} s left`,
      );
    } finally {
      await keeper.stop();
    }
    // Once renewals stop the lease runs out (on the new leader's clock) and its key goes.
    await waitFor(
      "the key to go once renewals stop",
      async () => (await client.get("svc/api")) === undefined,
      30_000,
    );
  });
});
