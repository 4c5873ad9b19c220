// Lease reads on the fast path (Reader + ReadQueue.leaseIndexNow): answered synchronously on a
// leader whose lease holds, never on a follower, and always reading every acknowledged write.
import { text } from "@d-engine/client";
import { afterEach, expect, it } from "vitest";
import type { Reader } from "../reads/reader.js";
import { startEmbeddedTrio } from "../testing/embedded-trio.js";
import { waitFor } from "../testing/wait.js";
import type { EmbeddedEngine } from "./embedded-engine.js";

let engines: EmbeddedEngine[] = [];
afterEach(async () => {
  await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
  engines = [];
});

function readerOf(e: EmbeddedEngine): Reader {
  return (e.node as unknown as { rt: { reader: Reader } }).rt.reader;
}

/** Starts a lease read and says whether it ran before readAt returned (the fast path). */
function ranAtOnce(e: EmbeddedEngine): { sync: boolean; done: Promise<unknown> } {
  let ran = false;
  const done = readerOf(e).readAt("lease", () => {
    ran = true;
  });
  return { sync: ran, done };
}

it("a leader answers lease reads at once while its lease holds; they see every acknowledged write", async () => {
  engines = await startEmbeddedTrio({ clusterId: "lease-fast", seedBase: 1700 });
  const leader = engines.find((e) => e.node.isLeader) as EmbeddedEngine;
  await waitFor(async () => {
    const r = ranAtOnce(leader);
    await r.done;
    return r.sync;
  }, "a lease read answered synchronously on the leader");

  // Read-your-writes through whichever path each read takes: the fast path must never return a
  // state older than a write acknowledged before the read began.
  for (let i = 0; i < 50; i++) {
    await leader.client.put("k", `v${i}`);
    const kv = await leader.client.get("k", { consistency: "lease" });
    expect(kv && text(kv.value)).toBe(`v${i}`);
  }
});

it("a follower never answers a lease read at once: it asks the leader", async () => {
  engines = await startEmbeddedTrio({ clusterId: "lease-follower", seedBase: 1710 });
  const leader = engines.find((e) => e.node.isLeader) as EmbeddedEngine;
  const follower = engines.find((e) => !e.node.isLeader) as EmbeddedEngine;
  await leader.client.put("k", "v");
  for (let i = 0; i < 20; i++) {
    expect(follower.node.isLeader).toBe(false);
    const r = ranAtOnce(follower);
    expect(r.sync).toBe(false);
    await r.done;
  }
  const kv = await follower.client.get("k", { consistency: "lease" });
  expect(kv && text(kv.value)).toBe("v");
});
