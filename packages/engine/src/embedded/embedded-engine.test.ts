// EmbeddedEngine: nodes inside the test process with in-process clients.
import { NotLeaderError, text } from "@d-engine/client";
import { afterEach, expect, it } from "vitest";
import { startEmbeddedTrio } from "../testing/embedded-trio.js";
import { waitFor } from "../testing/wait.js";
import type { EmbeddedEngine } from "./embedded-engine.js";

let engines: EmbeddedEngine[] = [];
afterEach(async () => {
  await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
  engines = [];
});

async function startThree(forward: boolean): Promise<EmbeddedEngine[]> {
  engines = await startEmbeddedTrio({ clusterId: "embedded", seedBase: 1200, forward });
  return engines;
}

it("a write on a follower's client is forwarded to the leader; reads are served in-process", async () => {
  const all = await startThree(true);
  const follower = all.find((e) => !e.node.isLeader) as EmbeddedEngine;
  const put = await follower.client.put("greeting", "hello");
  expect(put.revision).toBe(1);
  // Lease and eventual reads never leave the process; linearizable ones ask the leader for a
  // read index (a Raft message), not for the data.
  const lin = await follower.client.get("greeting");
  expect(lin && text(lin.value)).toBe("hello");
  await waitFor(async () => {
    const kv = await follower.client.get("greeting", { consistency: "eventual" });
    return kv !== undefined && text(kv.value) === "hello";
  }, "the follower's own copy");
  const cas = await follower.client.compareAndSwap("greeting", "hello", "bye");
  expect(cas.succeeded).toBe(true);
  const txn = await follower.client.txn({
    compare: [{ key: "greeting", target: "version", result: "=", number: 2 }],
    success: [{ type: "get", key: "greeting" }],
  });
  expect(txn.succeeded).toBe(true);
  const members = await follower.client.cluster.members();
  expect(members.members.map((m) => m.id)).toEqual([1, 2, 3]);
  expect(members.leaderId).toBe(all.find((e) => e.node.isLeader)?.node.id);
});

it("without forwardTo a follower's write fails with NotLeaderError naming the leader", async () => {
  const all = await startThree(false);
  const leader = all.find((e) => e.node.isLeader) as EmbeddedEngine;
  const follower = all.find((e) => !e.node.isLeader) as EmbeddedEngine;
  const err = await follower.client.put("k", "v").catch((e: unknown) => e);
  expect(err).toBeInstanceOf(NotLeaderError);
  expect((err as NotLeaderError).leaderId).toBe(leader.node.id);
  // On the leader the same client API writes locally.
  const ok = await leader.client.put("k", "v");
  expect(ok.revision).toBe(1);
});
