// The state machine is flushed in the background, not on every applied batch (the log is the
// truth: packages/storage/src/kv/lmdb/background-sync.ts). These tests take its state away in the
// two ways a real crash can, on a one-node cluster (no other replica to copy from: the node must
// rebuild everything from its own snapshot and log), and check that nothing acknowledged is lost
// and that exactly-once answers survive:
// - the machine restarted while the state machine was unsynced: its file may be torn (here it is
//   made garbage) and the node must rebuild it;
// - the state machine is behind the log (here an older copy of it, from before a snapshot that
//   compacted the log past it): the node must restore the snapshot and replay the log.
import { cp, open, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createClient as createRpcClient } from "@connectrpc/connect";
import { createConnectTransport } from "@connectrpc/connect-node";
import { KvService } from "@d-engine/proto/api";
import { afterEach, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";

let cluster: LocalCluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

const enc = (s: string) => new TextEncoder().encode(s);

function kvAt(address: string) {
  return createRpcClient(
    KvService,
    createConnectTransport({ baseUrl: `http://${address}`, httpVersion: "2" }),
  );
}

/** Writes keys `${prefix}0..n-1` (each acknowledged), 16 at a time. */
async function writeKeys(c: LocalCluster, prefix: string, n: number): Promise<void> {
  const client = c.client();
  for (let i = 0; i < n; i += 16) {
    const batch = [];
    for (let j = i; j < Math.min(n, i + 16); j++) batch.push(client.put(`${prefix}${j}`, `v${j}`));
    await Promise.all(batch);
  }
}

/** Every key `${prefix}0..n-1` is there with its value. */
async function expectKeys(c: LocalCluster, prefix: string, n: number): Promise<void> {
  const got = await c.client({ timeoutMs: 30_000 }).range({ prefix, limit: n + 10 });
  const seen = new Map(got.kvs.map((kv) => [new TextDecoder().decode(kv.key), kv]));
  const missing = [];
  for (let i = 0; i < n; i++) {
    const kv = seen.get(`${prefix}${i}`);
    if (kv === undefined || new TextDecoder().decode(kv.value) !== `v${i}`) missing.push(i);
  }
  expect(missing, `keys ${prefix}* missing or wrong after recovery`).toEqual([]);
  expect(got.kvs.length).toBe(n);
}

/** A write with a fixed session, answered once; a retry must get the same answer. */
async function sessionWrite(c: LocalCluster): Promise<bigint> {
  const res = await kvAt(c.node(1).address).put({
    key: enc("once"),
    value: enc("1"),
    session: { clientId: "recovery-test", sequence: 1n, firstIncomplete: 1n },
  });
  return res.revision;
}

describe("a state machine lost or behind after a crash is rebuilt from the node's own log", () => {
  it("torn (written unsynced, then the machine restarted): rebuilt, nothing acknowledged lost", async () => {
    cluster = await LocalCluster.start({ size: 1 });
    await writeKeys(cluster, "torn/", 300);
    const answered = await sessionWrite(cluster);
    await cluster.kill(1);

    const kvDir = join(cluster.node(1).dataDir, "kv");
    // The node was killed with its state machine open unsynced: the mark names this boot.
    expect((await readFile(join(kvDir, "unsynced-boot-id"), "utf8")).length).toBeGreaterThan(0);
    // Pretend the machine rebooted before the kernel wrote the pages out: another boot's mark,
    // and a file whose pages are garbage (what a torn MDB_NOSYNC file can be).
    await writeFile(join(kvDir, "unsynced-boot-id"), "a-boot-before-a-power-cut");
    const f = await open(join(kvDir, "data.mdb"), "r+");
    await f.write(Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, 0);
    await f.close();

    cluster.restart(1);
    await cluster.waitForLeader();
    await expectKeys(cluster, "torn/", 300);
    expect(await sessionWrite(cluster), "the remembered answer, not a second write").toBe(answered);
    expect(cluster.node(1).process.log).toMatch(/rebuilding it from the snapshot and the log/);
  });

  it("behind a snapshot that compacted the log past it: restored and replayed", async () => {
    cluster = await LocalCluster.start({
      size: 1,
      args: [
        "--snapshot-max-log-entries",
        "100",
        "--snapshot-keep-entries",
        "10",
        "--snapshot-cooldown-ms",
        "0",
      ],
    });
    await writeKeys(cluster, "old/", 50);
    const answered = await sessionWrite(cluster);
    // A clean stop flushes the state machine: keep a copy of it as it was then.
    expect(await cluster.node(1).process.stop()).toBe(0);
    const kvDir = join(cluster.node(1).dataDir, "kv");
    const oldCopy = join(cluster.dir, "kv-old");
    await cp(kvDir, oldCopy, { recursive: true });

    cluster.restart(1);
    await cluster.waitForLeader();
    // Far more than maxLogEntries: snapshots are taken and the log is purged past the old copy.
    await writeKeys(cluster, "new/", 400);
    await cluster.kill(1);
    await rm(kvDir, { recursive: true, force: true });
    await cp(oldCopy, kvDir, { recursive: true });

    const logBefore = cluster.node(1).process.log.length;
    cluster.restart(1);
    await cluster.waitForLeader();
    // The node started from a snapshot newer than the old copy's applied index.
    const started = cluster.node(1).process.log.slice(logBefore);
    const snapshotIndex = Number(/"snapshotIndex":(\d+)/.exec(started)?.[1] ?? 0);
    expect(snapshotIndex, "a snapshot past the old state machine").toBeGreaterThan(60);
    await expectKeys(cluster, "old/", 50);
    await expectKeys(cluster, "new/", 400);
    expect(await sessionWrite(cluster), "the remembered answer, not a second write").toBe(answered);
  });
});
