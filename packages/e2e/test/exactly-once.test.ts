// Issue 5, test 4: a write whose answer was lost is retried with the same session after a leader
// change, and is applied exactly once.
import { createClient as createRpcClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { text } from "@d-engine/client";
import { KvService } from "@d-engine/proto/api";
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

function kvAt(address: string) {
  return createRpcClient(
    KvService,
    createConnectTransport({
      baseUrl: `http://${address}`,
      httpVersion: "2",
      useBinaryFormat: true,
    }),
  );
}

const enc = (s: string) => new TextEncoder().encode(s);

describe("exactly once across a leader change", () => {
  it("a retried write (same client id and sequence) on the new leader is answered, not applied again", async () => {
    const leader = await cluster.waitForLeader();
    const session = { clientId: "e2e-exactly-once", sequence: 1n, firstIncomplete: 1n };
    const first = await kvAt(cluster.node(leader).address).put({
      key: enc("once"),
      value: enc("1"),
      session,
    });
    expect(first.revision).toBeGreaterThan(0n);

    // The client never saw that answer (say its connection broke); the leader dies.
    await cluster.kill(leader);
    const next = await cluster.waitForLeader(30_000, leader);

    const retry = await kvAt(cluster.node(next).address).put({
      key: enc("once"),
      value: enc("1"),
      session,
    });
    expect(retry.revision, "the remembered answer").toBe(first.revision);
    const client = cluster.client();
    const kv = await client.get("once");
    expect(kv?.version, "applied once").toBe(1);
    expect(kv?.modRevision).toBe(Number(first.revision));

    // A new sequence is a new write.
    const second = await kvAt(cluster.node(next).address).put({
      key: enc("once"),
      value: enc("2"),
      session: { ...session, sequence: 2n, firstIncomplete: 2n },
    });
    expect(second.revision).toBeGreaterThan(first.revision);
    expect((await client.get("once"))?.version).toBe(2);

    // Back to three nodes for the next test.
    cluster.restart(leader);
    await cluster.waitForLeader();
  });

  it("the SDK retries a write stuck on a paused leader with the same session: applied once", async () => {
    const client = cluster.client({ timeoutMs: 30_000 });
    await client.put("paused", "0");
    const leader = await cluster.waitForLeader();
    const pid = cluster.node(leader).process.pid;
    expect(pid).toBeDefined();
    // SIGSTOP: the leader takes the call and then stops answering anything.
    const write = client.put("paused", "1");
    process.kill(pid as number, "SIGSTOP");
    try {
      const next = await cluster.waitForLeader(30_000, leader);
      expect(next).not.toBe(leader);
      const r = await write;
      expect(r.revision).toBeGreaterThan(0);
    } finally {
      process.kill(pid as number, "SIGCONT");
    }
    await waitFor("the old leader to rejoin as a follower", async () => {
      const s = await client.cluster.status({
        endpoint: cluster.node(leader).address,
        timeoutMs: 1_000,
      });
      return s.role === "follower";
    });
    const kv = await client.get("paused");
    expect(kv && text(kv.value)).toBe("1");
    expect(kv?.version, "the put was applied once, not once per attempt").toBe(2);
  });
});
