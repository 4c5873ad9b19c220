// Membership through the API: learners that join late (by snapshot), automatic promotion that
// keeps the voter count odd, read-only learners, manual promotion, removal, leadership transfer.
import { MembershipError, text } from "@d-engine/client";
import { afterEach, describe, expect, it } from "vitest";
import type { RaftNode } from "./raft-node.js";
import { addressOf, TestCluster } from "./testing/cluster.js";
import { waitFor } from "./testing/wait.js";

const roles = (n: RaftNode) => n.status().members.map((m) => `${m.id}:${m.role}`);

async function hasValue(n: RaftNode, key: string, want: string): Promise<boolean> {
  const kv = await n.api.get(key, { consistency: "eventual" });
  return kv !== undefined && text(kv.value) === want;
}

const learner = (id: number, readOnly = false) => ({
  id,
  peerAddress: addressOf(id),
  clientAddress: addressOf(id),
  readOnly,
});

describe.each([
  { storage: "memory", durable: false },
  { storage: "durable", durable: true },
])("learners on $storage storage", ({ durable }) => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("join after the log was compacted, catch up by snapshot (resuming a broken transfer), and are promoted two at a time", async () => {
    c = await TestCluster.start({
      size: 3,
      durable,
      seed: 900,
      options: {
        snapshots: { policy: "log-size", maxLogEntries: 20, cooldownMs: 0, keepEntries: 0 },
      },
    });
    const leader = await c.leader();
    for (let i = 0; i < 60; i++) await leader.api.put(`k${i}`, `v${i}`);
    await waitFor(() => leader.status().snapshotIndex > 20, "the leader to snapshot");

    // The first snapshot transfer breaks off part-way; the retry resumes from there.
    c.net.breakNextSnapshotAfter(100);
    const said: string[] = [];
    const record = (msg: string) => said.push(msg);
    const four = await c.startNode(4, {
      join: true,
      logger: { debug: record, info: record, warn: record, error: record },
    });
    await leader.api.cluster.addLearner(learner(4));
    await waitFor(() => hasValue(four, "k59", "v59"), "learner 4 to catch up");
    expect(said.some((m) => /^resuming snapshot \d+ from node/.test(m))).toBe(true);
    expect(four.status().snapshotIndex).toBeGreaterThan(20);
    expect(c.net.stats.snapshotsFailed).toBeGreaterThanOrEqual(1);
    expect(c.net.stats.snapshotsSent).toBeGreaterThanOrEqual(1);
    // Caught up, but promoting it alone would make four voters: it stays a learner.
    expect(roles(leader)).toContain("4:learner");
    // It learned every member's address from the snapshot, not from the (compacted) log.
    expect(four.status().members.map((m) => m.peerAddress)).toEqual([1, 2, 3, 4].map(addressOf));

    const five = await c.startNode(5, { join: true });
    await leader.api.cluster.addLearner(learner(5));
    await waitFor(
      () => roles(leader).join() === "1:voter,2:voter,3:voter,4:voter,5:voter",
      "both learners promoted together",
    );
    await leader.api.put("after", "promotion");
    await waitFor(() => hasValue(five, "after", "promotion"), "node 5 to replicate");
    if (durable) {
      // A restart of the node that joined by snapshot restores members and data from disk.
      await c.stopNode(4);
      const again = await c.startNode(4);
      // Its state machine is back at once; the membership changes after its newest snapshot
      // are replayed from its log by the first Ready.
      expect(await hasValue(again, "k0", "v0")).toBe(true);
      await waitFor(
        () =>
          again
            .status()
            .members.map((m) => m.id)
            .join() === "1,2,3,4,5",
        "the restarted node to replay the membership",
      );
      await leader.api.put("later", "yes");
      await waitFor(() => hasValue(again, "later", "yes"), "restarted node 4 to catch up");
    }
  });
});

describe("membership", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  it("a read-only learner is never promoted and serves reads; an ordinary one is", async () => {
    c = await TestCluster.start({ size: 2, seed: 1000 });
    const leader = await c.leader();
    await leader.api.put("x", "1");
    const ro = await c.startNode(3, { join: true });
    await leader.api.cluster.addLearner(learner(3, true));
    await waitFor(() => hasValue(ro, "x", "1"), "the read-only learner to catch up");
    // A learner serves eventual reads locally and linearizable ones through the leader.
    const lin = await ro.api.get("x", { consistency: "linearizable" });
    expect(lin && text(lin.value)).toBe("1");
    await expect(ro.api.put("x", "2")).rejects.toMatchObject({ code: "not-leader" });

    await c.startNode(4, { join: true });
    await leader.api.cluster.addLearner(learner(4));
    // Two voters + 1 = 3 (odd): node 4 is promoted alone; node 3 never is.
    await waitFor(() => roles(leader).includes("4:voter"), "node 4 promoted");
    expect(roles(leader)).toEqual(["1:voter", "2:voter", "3:learner", "4:voter"]);
    expect(leader.status().members.find((m) => m.id === 3)?.readOnly).toBe(true);
  });

  it("promote, remove and transfer leadership on request", async () => {
    c = await TestCluster.start({
      size: 3,
      seed: 1100,
      options: { learners: { autoPromote: false } },
    });
    let leader = await c.leader();
    const four = await c.startNode(4, { join: true });
    await leader.api.cluster.addLearner(learner(4));
    await leader.api.put("y", "1");
    await waitFor(() => hasValue(four, "y", "1"), "learner 4 to catch up");
    await expect(leader.api.cluster.addLearner(learner(4))).rejects.toBeInstanceOf(MembershipError);
    const promoted = await leader.api.cluster.promote(4);
    expect(promoted.members.find((m) => m.id === 4)?.role).toBe("voter");

    // Transfer to a chosen voter: resolves once that node leads.
    const target = [1, 2, 3, 4].find((id) => id !== leader.id) as number;
    const moved = await leader.api.cluster.transferLeader(target);
    expect(moved.leaderId).toBe(target);
    leader = await c.leader();
    expect(leader.id).toBe(target);

    // Remove a follower; the rest go on.
    const gone = [1, 2, 3, 4].find((id) => id !== leader.id) as number;
    const after = await leader.api.cluster.removeMember(gone);
    expect(after.members.map((m) => m.id)).not.toContain(gone);
    await c.stopNode(gone);
    await leader.api.put("z", "after removal");

    // Removing the leader itself: it hands off and a remaining voter takes over.
    const removedLeader = leader.id;
    await leader.api.cluster.removeMember(removedLeader);
    const rest = c.running().filter((n) => n.id !== removedLeader);
    const next = await c.leader(10_000, rest);
    expect(next.id).not.toBe(removedLeader);
    expect(
      next
        .status()
        .members.map((m) => m.id)
        .sort(),
    ).toEqual(rest.map((n) => n.id).sort());
    await next.api.put("z", "new leader");
    expect(await hasValue(next, "z", "new leader")).toBe(true);
  });
});
