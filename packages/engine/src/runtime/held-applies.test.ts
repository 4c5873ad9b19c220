// Followers holding committed entries back (held-applies.ts): what they hold, what makes them
// apply at once, and that the delay bounds the wait. Most tests hold for a minute so that only
// the rule under test can make the follower apply; each finishes in well under that.
import { text } from "@d-engine/client";
import { EntryType, StateRole } from "@d-engine/core";
import { afterEach, describe, expect, it } from "vitest";
import type { RaftNode } from "../raft-node.js";
import { addressOf, TestCluster } from "../testing/cluster.js";
import { waitFor } from "../testing/wait.js";
import { HeldApplies, MAX_HELD_ENTRIES, mayHold } from "./held-applies.js";

const MINUTE = 60_000;

const entry = (index: number, type = EntryType.Normal) => ({
  term: 1,
  index,
  type,
  data: new Uint8Array([index]),
});

describe("HeldApplies and mayHold", () => {
  it("hands back what it held, in order, and says when it is full", () => {
    const h = new HeldApplies();
    expect(h.hold([entry(1), entry(2)])).toBe(false);
    expect(h.hold([entry(3)])).toBe(false);
    expect(h.size).toBe(3);
    expect(h.take().map((e) => e.index)).toEqual([1, 2, 3]);
    expect(h.size).toBe(0);
    const many = Array.from({ length: MAX_HELD_ENTRIES }, (_, i) => entry(i + 1));
    expect(h.hold(many.slice(0, -1))).toBe(false);
    expect(h.hold(many.slice(-1))).toBe(true);
  });

  it("holds only a follower's plain commands, only when holding is on and no writer waits", () => {
    const plain = [entry(1), entry(2)];
    expect(mayHold(5, StateRole.Follower, 0, plain)).toBe(true);
    expect(mayHold(5, StateRole.Follower, 0, [])).toBe(true);
    expect(mayHold(0, StateRole.Follower, 0, plain)).toBe(false);
    expect(mayHold(5, StateRole.Leader, 0, plain)).toBe(false);
    expect(mayHold(5, StateRole.Candidate, 0, plain)).toBe(false);
    expect(mayHold(5, StateRole.PreCandidate, 0, plain)).toBe(false);
    expect(mayHold(5, StateRole.Follower, 1, plain)).toBe(false);
    expect(mayHold(5, StateRole.Follower, 0, [entry(1), entry(2, EntryType.ConfChange)])).toBe(
      false,
    );
  });
});

describe("followers holding committed entries", () => {
  let c: TestCluster | undefined;
  afterEach(async () => {
    await c?.close();
    c = undefined;
  });

  async function cluster(followerApplyDelayMs: number, seed: number) {
    c = await TestCluster.start({ size: 3, seed, options: { raft: { followerApplyDelayMs } } });
    const leader = await c.leader();
    const followers = c.running().filter((n) => n !== leader);
    return { c, leader, followers };
  }

  /** Waits until `n` knows index `index` is committed (its status, not its state machine). */
  const knowsCommitted = (n: RaftNode, index: number) =>
    waitFor(() => n.status().commitIndex >= index, `node ${n.id} to learn commit ${index}`);

  const eventual = async (n: RaftNode, key: string) => {
    const kv = await n.api.get(key, { consistency: "eventual" });
    return kv && text(kv.value);
  };

  it("a follower holds what it learned is committed; a linearizable read makes it apply at once", async () => {
    const { leader, followers } = await cluster(MINUTE, 1100);
    await leader.api.put("k", "v");
    const index = leader.status().appliedIndex;
    const f = followers[0] as RaftNode;
    await knowsCommitted(f, index);
    expect(f.status().appliedIndex).toBeLessThan(index);
    expect(await eventual(f, "k")).toBeUndefined();
    // The read waits for the state machine to reach the read index: not for the minute.
    const kv = await f.api.get("k", { consistency: "linearizable", timeoutMs: 5_000 });
    expect(kv && text(kv.value)).toBe("v");
    expect(f.status().appliedIndex).toBeGreaterThanOrEqual(index);
  });

  it("the delay bounds the hold: a follower applies without any read asking", async () => {
    const { leader, followers } = await cluster(20, 1200);
    for (let i = 0; i < 5; i++) await leader.api.put(`k${i}`, `v${i}`);
    for (const f of followers) {
      await waitFor(async () => (await eventual(f, "k4")) === "v4", `node ${f.id} to apply`);
      expect(f.status().appliedIndex).toBe(leader.status().appliedIndex);
    }
  });

  it("a membership change applies at once, after everything held, in order", async () => {
    const { c, leader, followers } = await cluster(MINUTE, 1300);
    for (let i = 0; i < 3; i++) await leader.api.put(`k${i}`, `v${i}`);
    const f = followers[0] as RaftNode;
    await knowsCommitted(f, leader.status().appliedIndex);
    expect(await eventual(f, "k2")).toBeUndefined();
    await c.startNode(4, { join: true });
    await leader.api.cluster.addLearner({
      id: 4,
      peerAddress: addressOf(4),
      clientAddress: addressOf(4),
    });
    await waitFor(
      () => f.status().members.some((m) => m.id === 4),
      `node ${f.id} to apply the membership change`,
    );
    // Everything before the change was applied before it (nothing later made it apply).
    for (let i = 0; i < 3; i++) expect(await eventual(f, `k${i}`)).toBe(`v${i}`);
  });

  it("a follower that becomes leader applies what it held before serving", async () => {
    const { leader, followers } = await cluster(MINUTE, 1400);
    for (let i = 0; i < 3; i++) await leader.api.put(`k${i}`, `v${i}`);
    const f = followers[0] as RaftNode;
    await knowsCommitted(f, leader.status().appliedIndex);
    expect(await eventual(f, "k2")).toBeUndefined();
    await leader.api.cluster.transferLeader(f.id);
    await waitFor(() => f.isLeader, `node ${f.id} to lead`);
    await f.api.put("after", "transfer");
    // Its own write applied, so everything held before it was applied first.
    for (let i = 0; i < 3; i++) expect(await eventual(f, `k${i}`)).toBe(`v${i}`);
    expect(await eventual(f, "after")).toBe("transfer");
  });

  it("stopping applies what is held", async () => {
    const { c, leader, followers } = await cluster(MINUTE, 1500);
    for (let i = 0; i < 3; i++) await leader.api.put(`k${i}`, `v${i}`);
    const f = followers[0] as RaftNode;
    const committed = leader.status().appliedIndex;
    await knowsCommitted(f, committed);
    expect(f.status().appliedIndex).toBeLessThan(committed);
    await c.stopNode(f.id);
    expect(f.status().appliedIndex).toBe(committed);
  });

  it.each([
    { delay: MINUTE, seed: 1700 },
    { delay: 5, seed: 1800 },
  ])(
    "linearizable reads on followers racing a writer see every write acknowledged before they began (hold $delay ms)",
    async ({ delay, seed }) => {
      const { leader, followers } = await cluster(delay, seed);
      // One register written with increasing values: a read that began after the write of v
      // was acknowledged must return v or later, and never a value not yet written when it ended.
      const WRITES = 150;
      let acked = 0;
      let invoked = 0;
      const writer = (async () => {
        for (let v = 1; v <= WRITES; v++) {
          invoked = v;
          await leader.api.put("reg", String(v));
          acked = v;
        }
      })();
      const violations: string[] = [];
      let reads = 0;
      const reader = async (f: RaftNode) => {
        while (acked < WRITES) {
          const floor = acked;
          const kv = await f.api.get("reg", { consistency: "linearizable", timeoutMs: 5_000 });
          const got = kv ? Number(text(kv.value)) : 0;
          const ceiling = invoked;
          reads++;
          if (got < floor || got > ceiling) {
            violations.push(`node ${f.id} read ${got}, outside [${floor}, ${ceiling}]`);
          }
        }
      };
      await Promise.all([writer, ...followers.map(reader)]);
      expect(violations).toEqual([]);
      expect(reads).toBeGreaterThan(10);
    },
  );

  it("with the delay 0 (holding off) followers apply with no timer and no read", async () => {
    const { leader, followers } = await cluster(0, 1600);
    await leader.api.put("k", "v");
    const index = leader.status().appliedIndex;
    for (const f of followers) {
      await waitFor(() => f.status().appliedIndex >= index, `node ${f.id} to apply`);
      expect(await eventual(f, "k")).toBe("v");
    }
  });
});
