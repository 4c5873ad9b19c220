// Issue 6, test 3: two clients contend for a lock. A child process takes it and keeps its lease
// alive; the test process queues behind it. The holder is killed (kill -9); the contender
// acquires only once the holder's lease has ended, and its fencing token is higher. Also the
// election: campaign, observe sees the leader and its values, resign hands over.
import { type ChildProcess, fork } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import {
  type DEngineClient,
  Election,
  type ElectionLeader,
  Lock,
  observeElection,
  Session,
  text,
} from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import type { HolderMessage } from "../src/lock-holder.js";
import { waitFor } from "../src/wait.js";

const require = createRequire(import.meta.url);
const holderScript = join(
  require.resolve("@d-engine/e2e/package.json"),
  "..",
  "dist",
  "lock-holder.js",
);

/** Short enough to keep the test quick, long enough to ride out a slow, shared machine. */
const TTL_SECONDS = 3;

let cluster: LocalCluster;
const children: ChildProcess[] = [];

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
});

afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await cluster?.stop();
});

/** Settles-or-not, to assert that a waiter is still waiting. */
function track<T>(p: Promise<T>) {
  const s = { settled: false, at: 0, promise: p };
  p.then(
    () => {
      s.settled = true;
      s.at = Date.now();
    },
    () => {
      s.settled = true;
    },
  );
  return s;
}

describe("lock", () => {
  it("goes to the next waiter only after a killed holder's lease ends; tokens increase", async () => {
    const name = "locks/e2e";
    const messages: HolderMessage[] = [];
    const child = fork(holderScript, [cluster.endpoints.join(","), name, String(TTL_SECONDS)], {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
    });
    children.push(child);
    let stderr = "";
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.on("message", (m: HolderMessage) => messages.push(m));
    const renewals = () =>
      messages.flatMap((m) => (m.type === "renewed" ? [m.deadlineWallMs] : []));
    const acquired = await waitFor(
      "the child to acquire the lock",
      () => {
        const err = messages.find((m) => m.type === "error");
        if (err) throw new Error(`child: ${err.message}\n${stderr}`);
        return messages.find((m) => m.type === "acquired");
      },
      30_000,
    );

    const client = cluster.client();
    const session = await Session.create(client, { ttlSeconds: 30 });
    const lock = new Lock(session, name);
    const waiting = track(lock.acquire({ timeoutMs: 60_000 }));
    await waitFor("the contender's key to queue behind the holder", async () => {
      const r = await client.prefix(`${name}/`);
      return r.kvs.length === 2;
    });
    // While the holder lives and renews, the contender waits: renewals go on past one TTL.
    const renewalsBefore = renewals().length;
    const queuedAt = Date.now();
    await waitFor(
      "the holder to renew its lease for more than one TTL while the contender waits",
      () => renewals().length >= renewalsBefore + 2 && Date.now() - queuedAt > TTL_SECONDS * 1000,
      30_000,
    );
    expect(waiting.settled).toBe(false);
    expect(messages.some((m) => m.type === "lost")).toBe(false);

    child.kill("SIGKILL");
    await exited;
    const killedAt = Date.now();
    // The holder's last known deadline: the send time of its last answered keep-alive + TTL.
    // (A renewal it made but could not report before dying only moves the real end later.)
    const leaseEndsNoEarlierThan = Math.max(...renewals());
    expect(leaseEndsNoEarlierThan).toBeGreaterThan(queuedAt);

    const handle = await waiting.promise;
    const acquiredAt = waiting.at;
    console.log(
      `lock: holder (token ${acquired.revision}) killed ${Math.round(leaseEndsNoEarlierThan - killedAt)} ms before ` +
        `its lease's earliest end; the contender acquired (token ${handle.revision}) ` +
        `${Math.round(acquiredAt - leaseEndsNoEarlierThan)} ms after that end`,
    );
    // Not before the lease ended. The leader renewed the lease no earlier than the holder sent
    // its last answered keep-alive, so the lease ran at least until leaseEndsNoEarlierThan; the
    // key's deletion, the watch event and the contender's read all come after that. Both numbers
    // are whole milliseconds of the same wall clock, each truncated once: 1 ms of slack.
    expect(acquiredAt).toBeGreaterThanOrEqual(leaseEndsNoEarlierThan - 1);
    expect(handle.revision).toBeGreaterThan(acquired.revision);
    // The holder's key went with its lease, and its lease is gone.
    expect(await client.get(acquired.keyText)).toBeUndefined();
    expect((await client.leases.timeToLive(acquired.leaseId)).ttlSeconds).toBe(-1);

    // Fencing: a write guarded by the old holder's token is refused, the new holder's applies.
    const guarded = (key: string, revision: number) =>
      client.txn({
        compare: [{ key, target: "create", result: "=", number: revision }],
        success: [{ type: "put", key: "fenced/resource", value: `by ${revision}` }],
      });
    expect((await guarded(acquired.keyText, acquired.revision)).succeeded).toBe(false);
    expect((await guarded(handle.keyText, handle.revision)).succeeded).toBe(true);

    // The next holder, after a release, gets a higher token still.
    expect(await lock.release()).toBe(true);
    const other = await Session.create(cluster.client(), { ttlSeconds: 30 });
    const third = await new Lock(other, name).acquire({ timeoutMs: 30_000 });
    expect(third.revision).toBeGreaterThan(handle.revision);
    await other.close();
    await session.close();
    expect((await client.prefix(`${name}/`)).kvs).toHaveLength(0);
  });
});

describe("election", () => {
  it("campaign leads, observe sees the leader and its values, resign hands over", async () => {
    const name = "elections/e2e";
    const a = await Session.create(cluster.client(), { ttlSeconds: 30 });
    const b = await Session.create(cluster.client(), { ttlSeconds: 30 });
    const watcher: DEngineClient = cluster.client();
    const stop = new AbortController();
    const seen: string[] = [];
    const observing = (async () => {
      for await (const l of observeElection(watcher, name, { signal: stop.signal })) {
        seen.push(describeLeader(l));
      }
    })();
    await waitFor("observe to report no leader", () => seen[0] === "none");

    const ea = new Election(a, name);
    const eb = new Election(b, name);
    const la = await ea.campaign("a:1");
    await waitFor("observe to see a lead", () => seen.includes(`a:1@${la.revision}`));
    const bCampaign = track(eb.campaign("b:1", { timeoutMs: 60_000 }));
    await waitFor("b's candidacy to queue", async () => {
      const r = await watcher.prefix(`${name}/`);
      return r.kvs.length === 2;
    });
    await ea.proclaim("a:2");
    await waitFor("observe to see a's new value", () => seen.includes(`a:2@${la.revision}`));
    expect(bCampaign.settled).toBe(false);
    const current = await ea.leader();
    expect(current && text(current.value)).toBe("a:2");

    expect(await ea.resign()).toBe(true);
    const lb = await bCampaign.promise;
    expect(lb.revision).toBeGreaterThan(la.revision);
    await waitFor("observe to see b lead", () => seen.includes(`b:1@${lb.revision}`));
    await expect(ea.proclaim("a:3")).rejects.toThrow(/not the leader/);
    expect(seen).toEqual([
      "none",
      `a:1@${la.revision}`,
      `a:2@${la.revision}`,
      `b:1@${lb.revision}`,
    ]);

    // b's session ends: nobody leads, and observe says so.
    await b.close();
    await waitFor("observe to see no leader", () => seen.at(-1) === "none");
    stop.abort();
    await observing;
    await a.close();
  });
});

function describeLeader(l: ElectionLeader | undefined): string {
  return l ? `${text(l.value)}@${l.revision}` : "none";
}
