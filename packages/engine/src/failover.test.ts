// Losing the leader, and restarting a durable node from its data directory.
import { TimeoutError, text, UnavailableError } from "@d-engine/client";
import { afterEach, describe, expect, it } from "vitest";
import type { RaftNode } from "./raft-node.js";
import { TestCluster } from "./testing/cluster.js";
import { eventually, waitFor } from "./testing/wait.js";

describe("failover", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("an isolated leader is replaced and every acknowledged write survives", async () => {
    c = await TestCluster.start({ size: 3, seed: 600 });
    const old = await c.leader();
    const acked: string[] = [];
    for (let i = 0; i < 20; i++) {
      await old.api.put(`k${i}`, `v${i}`);
      acked.push(`k${i}`);
    }
    c.net.isolate(old.id);
    const rest = c.running().filter((n) => n !== old);
    const next = await c.leader(10_000, rest);
    expect(next.id).not.toBe(old.id);
    // The new leader serves writes and linearizable reads of everything acknowledged before.
    await eventually(() => next.api.put("after", "failover"), "a write on the new leader");
    for (const k of acked) {
      const kv = await next.api.get(k, { consistency: "linearizable" });
      expect(kv && text(kv.value)).toBe(`v${k.slice(1)}`);
    }
    // The old leader stepped down (check-quorum) and refuses writes; once healed it catches up.
    await waitFor(() => !old.isLeader, "the isolated leader to step down");
    c.net.heal();
    await waitFor(async () => {
      const kv = await old.api.get("after", { consistency: "eventual" });
      return kv !== undefined && text(kv.value) === "failover";
    }, "the old leader to catch up");
  });

  it("a cut-off leader: lease reads hold while the lease does, writes end with outcome unknown", async () => {
    c = await TestCluster.start({ size: 3, seed: 650 });
    const leader = await c.leader();
    await leader.api.put("k", "v");
    // A linearizable read completes when a quorum acknowledged a heartbeat: that also dates the
    // leader's lease (a fresh leader holds none until its first round is acknowledged).
    await leader.api.get("k");
    c.net.isolate(leader.id);
    // Issued in the same turn as the cut: the lease (acknowledged heartbeats of the last
    // electionTicks - margin ticks) still holds, so no quorum round is needed.
    const lease = leader.api.get("k", { consistency: "lease", timeoutMs: 1_000 });
    const lin = leader.api.get("k", { timeoutMs: 300 }).catch((e: unknown) => e);
    const write = leader.api.put("k", "lost?").catch((e: unknown) => e);
    const kv = await lease;
    expect(kv && text(kv.value)).toBe("v");
    // Check-quorum makes it step down; the write it could not commit has an unknown outcome,
    // the read that could not be confirmed times out (nothing to be unknown about).
    const w = await write;
    expect(w).toBeInstanceOf(UnavailableError);
    expect((w as UnavailableError).outcomeUnknown).toBe(true);
    const r = await lin;
    expect(r).toBeInstanceOf(TimeoutError);
    expect((r as TimeoutError).outcomeUnknown).toBe(false);
  });

  it("a follower's read asked of a leader that is cut off is asked again of the next one", async () => {
    c = await TestCluster.start({ size: 3, seed: 660 });
    const old = await c.leader();
    await old.api.put("k", "v");
    const follower = c.running().find((n) => n !== old) as RaftNode;
    c.net.isolate(old.id);
    // Forwarded to the old leader, whose answer never comes; the new leader answers instead.
    const kv = await follower.api.get("k", { timeoutMs: 5_000 });
    expect(kv && text(kv.value)).toBe("v");
    expect(follower.leader().id).not.toBe(old.id);
  });

  it("a durable node restarts from its data directory and catches up", async () => {
    c = await TestCluster.start({ size: 3, durable: true, seed: 700 });
    const leader = await c.leader();
    for (let i = 0; i < 10; i++) await leader.api.put(`a${i}`, `${i}`);
    const victim = c.running().find((n) => n !== leader) as RaftNode;
    const id = victim.id;
    await waitFor(
      () => victim.status().appliedIndex >= leader.status().commitIndex,
      "victim caught up",
    );
    await c.stopNode(id);
    // Writes go on without it (a quorum of two remains).
    for (let i = 0; i < 10; i++) await leader.api.put(`b${i}`, `${i}`);
    const restarted = await c.startNode(id);
    // Its own writes came back from disk at once...
    const early = await restarted.api.get("a9", { consistency: "eventual" });
    expect(early && text(early.value)).toBe("9");
    // ...and the leader brings it up to date.
    await waitFor(async () => {
      const kv = await restarted.api.get("b9", { consistency: "eventual" });
      return kv !== undefined && text(kv.value) === "9";
    }, "the restarted node to catch up");
    expect(restarted.status().members.map((m) => m.id)).toEqual([1, 2, 3]);
    expect(restarted.status().revision).toBe(leader.status().revision);
  });

  it("a durable cluster restarts entirely and keeps its data", async () => {
    c = await TestCluster.start({ size: 3, durable: true, seed: 800 });
    const leader = await c.leader();
    for (let i = 0; i < 5; i++) await leader.api.put(`x${i}`, `${i}`);
    const rev = leader.status().revision;
    for (const n of c.running()) await c.stopNode(n.id);
    for (const id of [1, 2, 3]) await c.startNode(id);
    const again = await c.leader();
    const kv = await again.api.get("x4", { consistency: "linearizable" });
    expect(kv && text(kv.value)).toBe("4");
    const put = await again.api.put("y", "after restart");
    expect(put.revision).toBe(rev + 1);
  });
});
