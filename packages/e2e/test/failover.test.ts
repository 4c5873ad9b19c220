// Issue 5, test 2: under a steady write load, kill -9 the leader. A new leader serves within a
// few election timeouts, every acknowledged write is still there, and the killed node restarts
// and catches up.
import { type DEngineClient, text } from "@d-engine/client";
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

/** Writes keys load/0, load/1, ... one after another until stopped; records what was acked. */
function steadyLoad(client: DEngineClient) {
  const acked = new Map<string, number>();
  let failures = 0;
  let stopped = false;
  let seq = 0;
  const done = (async () => {
    while (!stopped) {
      const key = `load/${String(seq).padStart(6, "0")}`;
      seq++;
      try {
        const r = await client.put(key, key);
        acked.set(key, r.revision);
      } catch {
        // Unknown or failed during the failover: not acknowledged, so not required to exist.
        failures++;
      }
    }
  })();
  return {
    acked,
    get failures() {
      return failures;
    },
    async stop() {
      stopped = true;
      await done;
    },
  };
}

describe("failover", () => {
  it("survives kill -9 of the leader under load, losing no acknowledged write", async () => {
    const client = cluster.client({ timeoutMs: 15_000 });
    const load = steadyLoad(client);
    await waitFor("some writes before the crash", () => load.acked.size >= 50);
    const oldLeader = await cluster.waitForLeader();
    const ackedBefore = load.acked.size;
    const killedAt = Date.now();
    await cluster.kill(oldLeader);
    const newLeader = await cluster.waitForLeader(30_000, oldLeader);
    expect(newLeader).not.toBe(oldLeader);
    await waitFor(
      "writes acknowledged after the failover",
      () => load.acked.size >= ackedBefore + 50,
      30_000,
    );
    const recoveredMs = Date.now() - killedAt;
    await load.stop();
    console.log(
      `failover: node ${oldLeader} killed; node ${newLeader} leads; writes flowed again within ${recoveredMs} ms; ` +
        `${load.acked.size} writes acknowledged, ${load.failures} failed or unknown`,
    );

    // Every acknowledged write is present, at the revision it was acknowledged with.
    const all = await client.prefix("load/");
    const present = new Map(all.kvs.map((kv) => [text(kv.key), kv.modRevision]));
    for (const [key, revision] of load.acked) expect(present.get(key), key).toBe(revision);

    // The killed node restarts from its data directory and catches up.
    cluster.restart(oldLeader);
    const leaderStatus = await client.cluster.status({ endpoint: cluster.node(newLeader).address });
    const target = leaderStatus.commitIndex;
    const probe = cluster.client({ endpoints: [cluster.node(oldLeader).address] });
    await waitFor(
      `node ${oldLeader} to apply up to ${target} after its restart`,
      async () =>
        (await probe.cluster.status({ endpoint: cluster.node(oldLeader).address })).appliedIndex >=
        target,
      30_000,
    );
    const local = await probe.prefix("load/", { consistency: "eventual", countOnly: true });
    expect(local.count).toBeGreaterThanOrEqual(load.acked.size);
  });
});
