// Issue 6, test 1: a watch sees every change in order, with no gaps, across a leader change;
// after its server dies (kill -9) it resumes from its last revision on another node. The watch
// is served by a follower (any node serves watches from its own state machine); the check is
// that what the watch delivered is exactly the history of the watched prefix: every key, at its
// revision, once, in revision order, including every write the writer had acknowledged.
import { type DEngineClient, text, type WatchBatch } from "@d-engine/client";
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

/** Puts w/000000, w/000001, ... one after another until stopped; records what was acked. */
function steadyLoad(client: DEngineClient) {
  const acked = new Map<string, number>();
  let stopped = false;
  let seq = 0;
  const done = (async () => {
    while (!stopped) {
      const key = `w/${String(seq++).padStart(6, "0")}`;
      try {
        acked.set(key, (await client.put(key, key)).revision);
      } catch {
        // Failed or unknown during a leader change: not acknowledged, so not required.
      }
    }
  })();
  return {
    acked,
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe("watch", () => {
  it("sees every change in order across a leader change, and resumes on another node after its server is killed", async () => {
    const leader = await cluster.waitForLeader();
    const ids = [...cluster.nodes.keys()];
    const [server, third] = ids.filter((id) => id !== leader) as [number, number];
    // The watch's first endpoint is the node it starts on (a follower); the others are where it
    // may resume.
    const watcher = cluster.client({
      endpoints: [server, third, leader].map((id) => cluster.node(id).address),
    });
    const writer = cluster.client({ timeoutMs: 20_000 });
    await writer.put("w/before", "x");

    const w = watcher.watch({ prefix: "w/", startRevision: 1 });
    const seen: WatchBatch[] = [];
    let failure: unknown;
    const consuming = (async () => {
      for await (const b of w) seen.push(b);
    })().catch((e: unknown) => {
      failure = e;
    });
    const events = () => seen.reduce((n, b) => n + b.events.length, 0);
    await waitFor("the watch to replay history", () => events() >= 1);

    const load = steadyLoad(writer);
    await waitFor("changes before the leader change", () => events() >= 30, 30_000);

    // A leader change: leadership moves to the node that does not serve the watch.
    const moved = await writer.cluster.transferLeader(third);
    expect(moved.leaderId).toBe(third);
    const atTransfer = events();
    await waitFor("changes after the leader change", () => events() >= atTransfer + 30, 30_000);

    // The watch's server dies; the watch must go on elsewhere from where it was.
    await cluster.kill(server);
    const atKill = events();
    await waitFor(
      "changes after the watch's server died",
      () => events() >= atKill + 30 && failure === undefined,
      30_000,
    );
    await load.stop();

    // Everything written is delivered: wait for the watch to reach the last revision.
    const final = await writer.prefix("w/");
    const last = Math.max(...final.kvs.map((kv) => kv.modRevision));
    await waitFor(
      "the watch to reach the last write",
      () => seen.at(-1)?.revision === last,
      30_000,
    );
    w.cancel();
    await consuming;
    expect(failure).toBeUndefined();

    const revisions = seen.map((b) => b.revision);
    // In order, no batch twice.
    for (let i = 1; i < revisions.length; i++) {
      expect(revisions[i] as number).toBeGreaterThan(revisions[i - 1] as number);
    }
    // No gap: every key of the prefix, at its revision, exactly once (each key is written once).
    const delivered = seen.flatMap((b) =>
      b.events.map((e) => `${text(e.kv.key)}@${e.kv.modRevision}:${e.type}`),
    );
    const stored = [...final.kvs]
      .sort((a, b) => a.modRevision - b.modRevision)
      .map((kv) => `${text(kv.key)}@${kv.modRevision}:put`);
    expect(delivered).toEqual(stored);
    for (const [key, revision] of load.acked) {
      expect(delivered).toContain(`${key}@${revision}:put`);
    }
    expect(seen.every((b) => !b.progress && b.events.length > 0)).toBe(true);
    console.log(
      `watch: ${delivered.length} changes delivered in order across a leader change (to node ${third}) ` +
        `and the death of node ${server} (${atKill} before it)`,
    );
  });
});
