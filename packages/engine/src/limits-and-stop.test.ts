// Backpressure, request limits, and what stop() does to calls in flight.
import {
  InvalidArgumentError,
  LimitExceededError,
  ResourceExhaustedError,
  UnavailableError,
} from "@d-engine/client";
import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "./testing/cluster.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.close();
  c = undefined;
});

describe("limits and backpressure", () => {
  it("rejects oversized requests naming the limit and the size", async () => {
    c = await TestCluster.start({
      size: 1,
      seed: 1300,
      options: { limits: { maxValueBytes: 10, maxTxnOps: 2, maxGetManyKeys: 2 } },
    });
    const n = await c.leader();
    const big = await n.api.put("k", "x".repeat(11)).catch((e: unknown) => e);
    expect(big).toBeInstanceOf(LimitExceededError);
    expect(big).toMatchObject({ limitName: "maxValueBytes", limit: 10, actual: 11 });
    const txn = await n.api
      .txn({
        compare: [{ key: "a", target: "version", result: "=", number: 0 }],
        success: [
          { type: "put", key: "a", value: "1" },
          { type: "put", key: "b", value: "1" },
        ],
      })
      .catch((e: unknown) => e);
    expect(txn).toMatchObject({ limitName: "maxTxnOps", limit: 2, actual: 3 });
    await expect(n.api.getMany(["a", "b", "c"])).rejects.toMatchObject({
      limitName: "maxGetManyKeys",
      actual: 3,
    });
    await expect(n.api.put("", "v")).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(n.api.put("k", "v", { ttlSeconds: 0 })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    // Nothing of that reached the log.
    expect(n.status().revision).toBe(0);
  });

  it("too many pending writes or reads: resource exhausted with a retry-after", async () => {
    c = await TestCluster.start({
      size: 1,
      seed: 1400,
      options: { backpressure: { maxPendingWrites: 2, maxPendingReads: 1, retryAfterMs: 250 } },
    });
    const n = await c.leader();
    // Proposed in one turn of the event loop: nothing can apply before the third is refused.
    const writes = [n.api.put("a", "1"), n.api.put("b", "2"), n.api.put("c", "3")];
    const results = await Promise.allSettled(writes);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled", "rejected"]);
    const refused = (results[2] as PromiseRejectedResult).reason;
    expect(refused).toBeInstanceOf(ResourceExhaustedError);
    expect(refused).toMatchObject({ retryAfterMs: 250, outcomeUnknown: false });
    const reads = await Promise.allSettled([n.api.get("a"), n.api.get("b")]);
    expect(reads.map((r) => r.status)).toEqual(["fulfilled", "rejected"]);
    // Eventual reads wait for nothing, so they are not limited.
    await expect(n.api.get("b", { consistency: "eventual" })).resolves.toBeDefined();
  });
});

describe("stop", () => {
  it("fails calls in flight: writes with outcome unknown, reads without; refuses new calls", async () => {
    c = await TestCluster.start({ size: 3, seed: 1500 });
    const leader = await c.leader();
    await leader.api.put("before", "1");
    // Cut the leader off: its writes and linearizable reads can no longer complete.
    c.net.isolate(leader.id);
    const write = leader.api.put("stuck", "1").catch((e: unknown) => e);
    const read = leader.api.get("before").catch((e: unknown) => e);
    await c.stopNode(leader.id, { transferLeadership: false });
    const w = await write;
    const r = await read;
    expect(w).toBeInstanceOf(UnavailableError);
    expect((w as UnavailableError).outcomeUnknown).toBe(true);
    expect(r).toBeInstanceOf(UnavailableError);
    expect((r as UnavailableError).outcomeUnknown).toBe(false);
    await expect(leader.api.get("before", { consistency: "eventual" })).rejects.toBeInstanceOf(
      UnavailableError,
    );
  });

  it("a leader that stops hands leadership to another voter first", async () => {
    c = await TestCluster.start({ size: 3, seed: 1600 });
    const leader = await c.leader();
    await leader.api.put("k", "v");
    const id = leader.id;
    await c.stopNode(id, { transferLeadership: true });
    // stop() waited for the handoff: another node already leads when it returns, without the
    // election timeout a crash would cost.
    expect(c.running().filter((n) => n.isLeader)).toHaveLength(1);
    const next = await c.leader(5_000);
    expect(next.id).not.toBe(id);
    await next.api.put("k", "after handoff");
  });
});
