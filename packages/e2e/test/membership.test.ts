// Issue 5, test 3: a fourth node joins as a learner and catches up by snapshot after the log was
// compacted, is promoted; a node is removed; leadership is transferred on request.
import { text } from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;

beforeAll(async () => {
  // Small snapshots, so that 200 writes compact the log well past the start.
  cluster = await LocalCluster.start({
    size: 3,
    args: [
      "--snapshot-max-log-entries",
      "50",
      "--snapshot-cooldown-ms",
      "100",
      "--snapshot-keep-entries",
      "5",
    ],
  });
});

afterAll(async () => {
  await cluster?.stop();
});

describe("membership over the network", () => {
  it("adds a learner that catches up by snapshot, promotes it, removes a node, transfers leadership", async () => {
    const client = cluster.client({ timeoutMs: 15_000 });
    for (let i = 0; i < 200; i++) await client.put(`m/${String(i).padStart(3, "0")}`, `v${i}`);
    const leader = await cluster.waitForLeader();
    const before = await client.cluster.status({ endpoint: cluster.node(leader).address });
    expect(before.snapshotIndex, "the leader compacted its log behind a snapshot").toBeGreaterThan(
      100,
    );

    // The joiner starts empty and waits; the leader adds it as a learner.
    const joiner = await cluster.spawnJoiner(4);
    const added = await client.cluster.addLearner({
      id: 4,
      clientAddress: joiner.address,
      peerAddress: joiner.address,
    });
    expect(added.members.find((m) => m.id === 4)?.role).toBe("learner");
    const probe = cluster.client({ endpoints: [joiner.address] });
    const caughtUp = await waitFor(
      "the learner to catch up",
      async () => {
        const s = await probe.cluster.status({ endpoint: joiner.address });
        return s.appliedIndex >= before.commitIndex ? s : undefined;
      },
      30_000,
    );
    expect(
      caughtUp.snapshotIndex,
      "it caught up from a snapshot, not from index 1",
    ).toBeGreaterThan(0);
    const local = await probe.get("m/199", { consistency: "eventual" });
    expect(local && text(local.value)).toBe("v199");

    // Promote it by request (with three voters, automatic promotion waits for a second learner
    // so the number of voters stays odd).
    const promoted = await client.cluster.promote(4);
    expect(promoted.members.find((m) => m.id === 4)?.role).toBe("voter");

    // Remove a follower other than the new node; four voters become three.
    const victim = [1, 2, 3].find((id) => id !== leader) as number;
    const afterRemove = await client.cluster.removeMember(victim);
    expect(afterRemove.members.map((m) => m.id).sort()).toEqual(
      [1, 2, 3, 4].filter((id) => id !== victim),
    );
    await cluster.kill(victim);
    cluster.nodes.delete(victim);

    // Hand leadership to the new node.
    const moved = await client.cluster.transferLeader(4);
    expect(moved.leaderId).toBe(4);
    expect(await cluster.waitForLeader()).toBe(4);
    const w = await client.put("after/transfer", "ok");
    expect(w.revision).toBeGreaterThan(0);
    const members = await client.cluster.members({ linearizable: true });
    expect(members.leaderId).toBe(4);
    expect(members.members.filter((m) => m.role === "voter")).toHaveLength(3);
  });
});
