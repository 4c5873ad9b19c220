// Three RaftNodes over the in-memory network, on memory and on durable storage: the key-value
// operations at every consistency, through the log on every replica.

import { getEventListeners } from "node:events";
import {
  ConsistencyOverrideForbiddenError,
  KvCommandError,
  NotLeaderError,
  text,
} from "@d-engine/client";
import { afterEach, describe, expect, it } from "vitest";
import type { RaftNode } from "./raft-node.js";
import { TestCluster } from "./testing/cluster.js";
import { eventually, waitFor } from "./testing/wait.js";

const value = async (
  n: RaftNode,
  key: string,
  consistency: "eventual" | "linearizable" = "eventual",
) => {
  const kv = await n.api.get(key, { consistency });
  return kv ? text(kv.value) : undefined;
};

describe.each([
  { storage: "memory", durable: false },
  { storage: "durable", durable: true },
])("a three-node cluster on $storage storage", ({ durable }) => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("elects a leader; put and get at each consistency; a follower refuses writes", async () => {
    c = await TestCluster.start({ size: 3, durable, seed: 100 });
    const leader = await c.leader();
    const followers = c.running().filter((n) => n !== leader);
    const put = await leader.api.put("k", "v1");
    expect(put.revision).toBe(1);
    expect(await value(leader, "k", "linearizable")).toBe("v1");
    const leased = await leader.api.get("k", { consistency: "lease" });
    expect(leased && text(leased.value)).toBe("v1");
    // A follower's linearizable read goes through the leader's read index, so it sees the write
    // acknowledged before it began, without waiting for anything else.
    const f = followers[0] as RaftNode;
    expect(await value(f, "k", "linearizable")).toBe("v1");
    // An eventual read answers from local state at once; it catches up.
    await waitFor(async () => (await value(followers[1] as RaftNode, "k")) === "v1", "replication");
    const refused = await f.api.put("k", "v2").catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(NotLeaderError);
    expect((refused as NotLeaderError).leaderId).toBe(leader.id);
    expect((refused as NotLeaderError).leaderAddress).toBe(`127.0.0.1:${7000 + leader.id}`);
    expect((refused as NotLeaderError).outcomeUnknown).toBe(false);
  });

  it("compare-and-swap, transactions, ranges with limit and sort, deletes", async () => {
    c = await TestCluster.start({ size: 3, durable, seed: 200 });
    const l = (await c.leader()).api;
    const created = await l.compareAndSwap("lock", undefined, "a");
    expect(created.succeeded).toBe(true);
    const lost = await l.compareAndSwap("lock", undefined, "b");
    expect(lost.succeeded).toBe(false);
    expect(lost.prevKv && text(lost.prevKv.value)).toBe("a");
    const swapped = await l.compareAndSwap("lock", "a", "c");
    expect(swapped.succeeded).toBe(true);
    expect(swapped.prevKv && text(swapped.prevKv.value)).toBe("a");

    for (const [k, v] of [
      ["p/b", "2"],
      ["p/a", "3"],
      ["p/c", "1"],
      ["q", "x"],
    ] as const) {
      await l.put(k, v);
    }
    const limited = await l.range({
      prefix: "p/",
      limit: 2,
      sortOrder: "descend",
      sortTarget: "key",
    });
    expect(limited.kvs.map((kv) => text(kv.key))).toEqual(["p/c", "p/b"]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(3);
    const byValue = await l.prefix("p/", { sortOrder: "ascend", sortTarget: "value" });
    expect(byValue.kvs.map((kv) => text(kv.value))).toEqual(["1", "2", "3"]);

    const txn = await l.txn({
      compare: [{ key: "q", target: "value", result: "=", value: "x" }],
      success: [
        { type: "put", key: "q", value: "y", prevKv: true },
        { type: "get", key: "p/a" },
        { type: "delete", key: "p/c" },
      ],
      failure: [{ type: "put", key: "q", value: "never" }],
    });
    expect(txn.succeeded).toBe(true);
    expect(txn.results.map((r) => r.type)).toEqual(["put", "get", "delete"]);
    const [putR, getR, delR] = txn.results;
    expect(putR?.type === "put" && putR.prevKv && text(putR.prevKv.value)).toBe("x");
    expect(getR?.type === "get" && getR.kvs.map((kv) => text(kv.value))).toEqual(["3"]);
    expect(delR?.type === "delete" && delR.deleted).toBe(1);
    expect(await value(c.node(1), "q", "linearizable")).toBe("y");

    const many = await l.getMany(["p/a", "nope", "q"]);
    expect(many.kvs.map((kv) => kv && text(kv.value))).toEqual(["3", undefined, "y"]);
    const del = await l.delete("p/", { prefix: true, prevKv: true });
    expect(del.deleted).toBe(2);
    expect(del.prevKvs.map((kv) => text(kv.key))).toEqual(["p/a", "p/b"]);
    const ttlLease = await l.put("k", "v", { lease: 12345 }).catch((e: unknown) => e);
    expect(ttlLease).toBeInstanceOf(KvCommandError);
    expect((ttlLease as KvCommandError).kvCode).toBe("lease-not-found");
  });

  it("leaves no abort listener on a call's signal once the call settled", async () => {
    // The Pipeline server lends one AbortController to call after call while nothing listens to
    // it (transport's abort-pool.ts): calls that leave listeners behind would each cost a new one.
    c = await TestCluster.start({ size: 3, durable, seed: 600 });
    const leader = await c.leader();
    const follower = c.running().find((n) => n !== leader) as RaftNode;
    const signal = new AbortController().signal;
    const o = { signal };
    const calls: [string, () => Promise<unknown>][] = [
      ["put", () => leader.api.put("s/a", "1", o)],
      ["linearizable get", () => leader.api.get("s/a", { ...o, consistency: "linearizable" })],
      ["lease get", () => leader.api.get("s/a", { ...o, consistency: "lease" })],
      ["eventual get", () => leader.api.get("s/a", { ...o, consistency: "eventual" })],
      [
        "follower's linearizable get",
        () => follower.api.get("s/a", { ...o, consistency: "linearizable" }),
      ],
      ["getMany", () => leader.api.getMany(["s/a", "s/b"], o)],
      ["range", () => leader.api.range({ prefix: "s/", ...o })],
      ["compareAndSwap", () => leader.api.compareAndSwap("s/a", "1", "2", o)],
      ["txn", () => leader.api.txn({ compare: [], success: [{ type: "get", key: "s/a" }] }, o)],
      ["delete", () => leader.api.delete("s/a", o)],
      ["a refused write", () => follower.api.put("s/x", "1", o).catch(() => undefined)],
    ];
    for (const [name, call] of calls) {
      await call();
      expect(getEventListeners(signal, "abort").length, name).toBe(0);
    }
  });

  it("a key put with a TTL disappears through the log on every replica", async () => {
    c = await TestCluster.start({ size: 3, durable, seed: 300 });
    const leader = await c.leader();
    const put = await leader.api.put("session", "alive", { ttlSeconds: 1 });
    expect(put.lease).toBeGreaterThan(0);
    expect(await value(leader, "session", "linearizable")).toBe("alive");
    // The leader proposes lease-expire once the lease's time has passed (about a second).
    await waitFor(
      async () => (await value(leader, "session", "linearizable")) === undefined,
      "the TTL key to expire",
      5_000,
    );
    // Every replica removed it at the same revision: through the log, not by its own clock.
    const rev = leader.status().revision;
    for (const n of c.running()) {
      await waitFor(async () => n.status().revision === rev, `node ${n.id} at revision ${rev}`);
      expect(await value(n, "session")).toBeUndefined();
    }
  });
});

describe("reads and history", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("history is compacted automatically, keeping the configured revisions", async () => {
    c = await TestCluster.start({
      size: 3,
      seed: 400,
      options: { compaction: { keepRevisions: 5, intervalMs: 20 } },
    });
    const l = await c.leader();
    for (let i = 0; i < 20; i++) await l.api.put("k", `v${i}`);
    await waitFor(() => l.status().revision >= 20, "20 revisions");
    const old = await eventually(async () => {
      const r = await l.api.get("k", { revision: 2 }).catch((e: unknown) => e);
      if (!(r instanceof Error)) throw new Error("revision 2 is still readable");
      return r;
    }, "revision 2 to be compacted");
    expect(old.name).toBe("CompactedError");
    // The kept window is still readable.
    const recent = await l.api.get("k", { revision: 19 });
    expect(recent && text(recent.value)).toBe("v18");
  });

  it("forbids another consistency than the default when overrides are off", async () => {
    c = await TestCluster.start({
      size: 1,
      seed: 500,
      options: { reads: { defaultConsistency: "lease", allowOverride: false } },
    });
    const n = await c.leader();
    await n.api.put("a", "1");
    const kv = await n.api.get("a");
    expect(kv && text(kv.value)).toBe("1");
    await expect(n.api.get("a", { consistency: "lease" })).resolves.toBeDefined();
    await expect(n.api.get("a", { consistency: "linearizable" })).rejects.toBeInstanceOf(
      ConsistencyOverrideForbiddenError,
    );
  });
});
