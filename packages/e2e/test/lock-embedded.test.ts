// The lock and election recipes over the embedded engine's in-process client: three networked
// embedded engines in this process, each application talking to its own node (writes forwarded
// to the leader, watches served by the local node). The same recipes as over the network client.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Election, Lock, observeElection, Session, TimeoutError, text } from "@d-engine/client";
import { type NetworkedEngine, startNetworkedEngine } from "@d-engine/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../src/ports.js";
import { waitFor } from "../src/wait.js";

let dir: string;
const engines: NetworkedEngine[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dengine-lock-embedded-"));
  const ports = await freePorts(3);
  const members = ports.map((p, i) => ({ id: i + 1, address: `127.0.0.1:${p}` }));
  engines.push(
    ...(await Promise.all(
      members.map((m) =>
        startNetworkedEngine({
          nodeId: m.id,
          clusterId: "lock-embedded",
          address: m.address,
          initialMembers: members,
          dataDir: join(dir, `node-${m.id}`),
          listen: { host: "127.0.0.1", port: Number(m.address.split(":")[1]) },
        }),
      ),
    )),
  );
  await waitFor("a leader known to every engine", () =>
    engines.every((e) => e.engine.node.leader().id !== 0),
  );
});

afterAll(async () => {
  await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
  await rm(dir, { recursive: true, force: true });
});

function client(i: number) {
  const e = engines[i];
  if (!e) throw new Error(`no engine ${i}`);
  return e.engine.client;
}

describe("lock over the in-process client", () => {
  it("a waiter on another node acquires when the holder's lease runs out, with a higher token", async () => {
    const a = await Session.create(client(0), { ttlSeconds: 2 });
    const b = await Session.create(client(1), { ttlSeconds: 30 });
    const ha = await new Lock(a, "embedded/lock").acquire();
    let acquiredB = false;
    const waitB = new Lock(b, "embedded/lock").acquire({ timeoutMs: 60_000 }).then((h) => {
      acquiredB = true;
      return h;
    });
    await waitFor("b to queue", async () => (await client(2).prefix("embedded/lock/")).count === 2);
    expect(acquiredB).toBe(false);
    // A third waiter that gives up (timeout) leaves the queue without a trace.
    const c = await Session.create(client(2), { ttlSeconds: 30 });
    const gaveUp = await new Lock(c, "embedded/lock")
      .acquire({ timeoutMs: 300 })
      .catch((e: unknown) => e);
    expect(gaveUp).toBeInstanceOf(TimeoutError);
    expect((await client(2).prefix("embedded/lock/")).kvs.map((kv) => kv.lease)).toEqual(
      expect.not.arrayContaining([c.leaseId]),
    );
    await c.close();
    // Stop renewing without revoking: the lease ends through the log after its TTL, which the
    // leader cannot reach before a's own deadline (the last answered keep-alive's send + TTL).
    const deadline = a.keeper.deadlineMs;
    await a.close({ revoke: false });
    const hb = await waitB;
    expect(deadline).toBeDefined();
    expect(performance.now()).toBeGreaterThanOrEqual(deadline ?? Number.POSITIVE_INFINITY);
    expect(hb.revision).toBeGreaterThan(ha.revision);
    expect(await client(2).get(ha.keyText)).toBeUndefined();
    await b.close();
  });
});

describe("election over the in-process client", () => {
  it("observe on a third node follows campaign, proclaim and resign", async () => {
    const a = await Session.create(client(0), { ttlSeconds: 30 });
    const b = await Session.create(client(1), { ttlSeconds: 30 });
    const stop = new AbortController();
    const seen: string[] = [];
    const observing = (async () => {
      for await (const l of observeElection(client(2), "embedded/election", {
        signal: stop.signal,
      })) {
        seen.push(l ? text(l.value) : "none");
      }
    })();
    await waitFor("observe to report no leader", () => seen[0] === "none");
    const ea = new Election(a, "embedded/election");
    await ea.campaign("a");
    const campaignB = new Election(b, "embedded/election").campaign("b", { timeoutMs: 60_000 });
    await ea.proclaim("a2");
    await waitFor("observe to see a2", () => seen.includes("a2"));
    await ea.resign();
    await campaignB;
    await waitFor("observe to see b", () => seen.includes("b"));
    expect(seen).toEqual(["none", "a", "a2", "b"]);
    stop.abort();
    await observing;
    await a.close();
    await b.close();
  });
});
