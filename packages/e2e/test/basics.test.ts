// Issue 5, test 1: three server processes form a cluster; put, get at each consistency, CAS, TTL,
// transaction and range with limit and sort all work through the network client.
import { type DEngineClient, text } from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;
let client: DEngineClient;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
  client = cluster.client();
});

afterAll(async () => {
  await cluster?.stop();
});

describe("a three-process cluster through the client", () => {
  it("puts, then gets at every consistency level", async () => {
    const put = await client.put("greeting", "hello");
    expect(put.revision).toBeGreaterThan(0);
    for (const consistency of ["linearizable", "lease", "eventual"] as const) {
      // Eventual reads may go to a follower that has not applied the put yet: wait for it.
      const kv = await waitFor(`a ${consistency} read of greeting`, async () => {
        const got = await client.get("greeting", { consistency });
        return got && text(got.value) === "hello" ? got : undefined;
      });
      expect(kv.modRevision).toBe(put.revision);
    }
  });

  it("compare-and-swap succeeds only on the expected value", async () => {
    const created = await client.compareAndSwap("lock", undefined, "a");
    expect(created.succeeded).toBe(true);
    const again = await client.compareAndSwap("lock", undefined, "b");
    expect(again.succeeded).toBe(false);
    const wrong = await client.compareAndSwap("lock", "x", "b");
    expect(wrong.succeeded).toBe(false);
    const swapped = await client.compareAndSwap("lock", "a", "b");
    expect(swapped.succeeded).toBe(true);
    expect(text((await client.get("lock"))?.value ?? new Uint8Array())).toBe("b");
  });

  it("a key put with a TTL disappears through the log on every node", async () => {
    const put = await client.put("ephemeral", "x", { ttlSeconds: 1 });
    expect(put.lease).toBeGreaterThan(0);
    expect(await client.get("ephemeral")).toBeDefined();
    await waitFor(
      "the TTL key to expire",
      async () => (await client.get("ephemeral")) === undefined,
      15_000,
    );
    for (const n of cluster.nodes.values()) {
      const one = cluster.client({ endpoints: [n.address] });
      await waitFor(`node ${n.id} to apply the expiry`, async () => {
        return (await one.get("ephemeral", { consistency: "eventual" })) === undefined;
      });
    }
  });

  it("runs a transaction's branch atomically at one revision", async () => {
    await client.put("acct/a", "10");
    const r = await client.txn({
      compare: [{ key: "acct/a", target: "value", result: "=", value: "10" }],
      success: [
        { type: "put", key: "acct/a", value: "5" },
        { type: "put", key: "acct/b", value: "5" },
        { type: "get", key: "acct/a" },
      ],
      failure: [{ type: "get", key: "acct/a" }],
    });
    expect(r.succeeded).toBe(true);
    expect(r.results).toHaveLength(3);
    const [a, b] = await Promise.all([client.get("acct/a"), client.get("acct/b")]);
    expect(a?.modRevision).toBe(r.revision);
    expect(b?.modRevision).toBe(r.revision);
    const failed = await client.txn({
      compare: [{ key: "acct/a", target: "value", result: "=", value: "10" }],
      success: [{ type: "put", key: "acct/a", value: "0" }],
      failure: [{ type: "get", key: "acct/a" }],
    });
    expect(failed.succeeded).toBe(false);
    const read = failed.results[0];
    expect(read?.type === "get" ? text(read.kvs[0]?.value ?? new Uint8Array()) : "").toBe("5");
  });

  it("ranges with a limit and a sort", async () => {
    for (const k of ["c", "a", "e", "b", "d"]) await client.put(`range/${k}`, k);
    const limited = await client.prefix("range/", { limit: 2 });
    expect(limited.kvs.map((kv) => text(kv.key))).toEqual(["range/a", "range/b"]);
    expect(limited.more).toBe(true);
    expect(limited.count).toBe(5);
    const desc = await client.prefix("range/", {
      sortOrder: "descend",
      sortTarget: "key",
      limit: 3,
    });
    expect(desc.kvs.map((kv) => text(kv.key))).toEqual(["range/e", "range/d", "range/c"]);
    const many = await client.getMany(["range/a", "nope", "range/e"]);
    expect(many.kvs.map((kv) => (kv ? text(kv.value) : undefined))).toEqual(["a", undefined, "e"]);
  });
});
