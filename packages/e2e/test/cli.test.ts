// Issue 6, test 4: the terminal client (`d-engine put|get|del|txn|member|status|transfer-leader|
// lease|watch|lock|elect|snapshot save|compact`) against a three-node cluster of real processes, each command a real
// child process of the built binary, checked by its output (tables and --json) and exit code.
// Commands are few and sequential: every Node start costs CPU on a small machine.
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { DEngineClient } from "@d-engine/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CliProcess, type CliRun, type CliRunOptions, runCliProcess } from "../src/cli-process.js";
import { LocalCluster } from "../src/cluster.js";
import { freePorts } from "../src/ports.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;
let client: DEngineClient;
let dir: string;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
  client = cluster.client();
  dir = await mkdtemp(join(tmpdir(), "dengine-cli-e2e-"));
});

afterAll(async () => {
  for (const p of running) p.kill();
  await cluster?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `d-engine <args>` with DENGINE_ENDPOINTS naming the three nodes. */
async function cli(args: string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return runCliProcess(args, {
    ...opts,
    env: { DENGINE_ENDPOINTS: cluster.endpoints.join(","), ...opts.env },
  });
}

const running: CliProcess[] = [];

/** Starts a long-running `d-engine <args>` (watch, lock, elect), stopped by interrupt(). */
function start(args: string[]): CliProcess {
  const p = new CliProcess(args, { env: { DENGINE_ENDPOINTS: cluster.endpoints.join(",") } });
  running.push(p);
  return p;
}

/** Exit code 0 and nothing on stderr, or a failure that shows what the command printed. */
function ok(r: CliRun): CliRun {
  expect(r.stderr, "stderr").toBe("");
  expect(r.code, `exit code (stdout: ${r.stdout})`).toBe(0);
  return r;
}

describe("the terminal client against three processes", () => {
  it("put, get, txn and del print tables and JSON", async () => {
    const put = ok(await cli(["put", "cli/a", "alpha"]));
    const rev = Number(/^OK revision (\d+)\n$/.exec(put.stdout)?.[1]);
    expect(rev).toBeGreaterThan(0);

    // The value from stdin; JSON output.
    const putB = JSON.parse(ok(await cli(["put", "cli/b", "--json"], { stdin: "beta" })).stdout);
    expect(putB).toEqual({ revision: rev + 1, lease: 0 });

    const table = ok(await cli(["get", "cli/", "--prefix"])).stdout.split("\n");
    expect(table[0]).toBe("KEY    VALUE  CREATE-REV  MOD-REV  VERSION  LEASE");
    expect(table[1]).toMatch(new RegExp(`^cli/a  alpha +${rev} +${rev} +1$`));
    expect(table[2]).toMatch(new RegExp(`^cli/b  beta +${rev + 1} +${rev + 1} +1$`));
    expect(table[3]).toBe(`2 keys at revision ${rev + 1}`);

    const got = JSON.parse(
      ok(await cli(["get", "cli/", "--prefix", "--limit", "1", "--consistency", "lease", "--json"]))
        .stdout,
    );
    expect(got).toEqual({
      revision: rev + 1,
      count: 2,
      more: true,
      kvs: [
        {
          key: "cli/a",
          value: "alpha",
          createRevision: rev,
          modRevision: rev,
          version: 1,
          lease: 0,
        },
      ],
    });

    const txnText = [
      'value("cli/a") = "alpha"',
      "",
      'put cli/a "alpha 2"',
      "del cli/b",
      "",
      "get cli/a",
      "",
    ];
    const txn = JSON.parse(ok(await cli(["txn", "--json"], { stdin: txnText.join("\n") })).stdout);
    expect(txn).toMatchObject({
      succeeded: true,
      revision: rev + 2,
      results: [{ type: "put" }, { type: "delete", deleted: 1 }],
    });

    const del = ok(await cli(["del", "cli/", "--prefix", "--prev-kv"])).stdout.split("\n");
    expect(del[0]).toBe(`deleted 1 key at revision ${rev + 3}`);
    expect(del[2]).toMatch(/^cli\/a {2}alpha 2 +\d+ +\d+ +2$/);
    expect((await client.prefix("cli/")).kvs).toEqual([]);
  });

  it("member list, add and remove; status of every node; transfer-leader", async () => {
    const list = JSON.parse(ok(await cli(["member", "list", "--json"])).stdout);
    expect(list.members.map((m: { id: number }) => m.id)).toEqual([1, 2, 3]);
    const leader = list.leaderId as number;
    expect([1, 2, 3]).toContain(leader);

    // Every node answers for itself: one leader, and all name the same one.
    const status = ok(await cli(["status"]))
      .stdout.trimEnd()
      .split("\n");
    expect(status[0]).toMatch(
      /^ID {2}ADDRESS +ROLE +LEADER {2}TERM {2}COMMIT {2}APPLIED {2}REVISION$/,
    );
    const rows = status.slice(1).map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => Number(r[0]))).toEqual([1, 2, 3]);
    expect(rows.map((r) => r[1])).toEqual(cluster.endpoints);
    expect(rows.filter((r) => r[2] === "leader").map((r) => Number(r[0]))).toEqual([leader]);
    expect(new Set(rows.map((r) => Number(r[3])))).toEqual(new Set([leader]));

    const nodes = JSON.parse(ok(await cli(["status", "--json"])).stdout).nodes;
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      expect(n).toMatchObject({ leaderId: leader, clusterId: "e2e" });
      expect(n.appliedIndex).toBeGreaterThan(0);
    }

    // A learner at an address nothing serves (it only has to be recorded), then removed.
    const [port] = await freePorts(1);
    const add = ok(await cli(["member", "add", "4", `127.0.0.1:${port}`]));
    expect(add.stdout.split("\n")[0]).toBe("added node 4 as a learner");
    expect(add.stdout).toMatch(
      new RegExp(` 4  learner +127\\.0\\.0\\.1:${port}  127\\.0\\.0\\.1:${port}  no`),
    );
    const removed = JSON.parse(ok(await cli(["member", "remove", "4", "--json"])).stdout);
    expect(removed.members.map((m: { id: number }) => m.id)).toEqual([1, 2, 3]);

    const target = [1, 2, 3].find((id) => id !== leader) as number;
    expect(ok(await cli(["transfer-leader", String(target)])).stdout).toBe(
      `node ${target} leads\n`,
    );
    expect(await cluster.waitForLeader()).toBe(target);
  });

  it("lease grant, list, timetolive and revoke (which deletes the lease's keys)", async () => {
    const granted = ok(await cli(["lease", "grant", "60"])).stdout;
    const id = Number(/^lease (\d+) granted with TTL 60s\n$/.exec(granted)?.[1]);
    expect(id).toBeGreaterThan(0);
    await client.put("cli/leased", "v", { lease: id });

    const list = JSON.parse(ok(await cli(["lease", "list", "--json"])).stdout);
    expect(list.leases).toContainEqual({ id, grantedTtlSeconds: 60 });
    const ttl = JSON.parse(
      ok(await cli(["lease", "timetolive", String(id), "--keys", "--json"])).stdout,
    );
    expect(ttl).toMatchObject({ id, grantedTtlSeconds: 60, keys: [{ key: "cli/leased" }] });
    expect(ttl.ttlSeconds).toBeGreaterThan(0);
    expect(ttl.ttlSeconds).toBeLessThanOrEqual(60);

    const revoked = ok(await cli(["lease", "revoke", String(id)])).stdout;
    expect(revoked).toMatch(new RegExp(`^lease ${id} revoked at revision \\d+\n$`));
    expect(await client.get("cli/leased")).toBeUndefined();
  });

  it("watch prints changes from a past revision and live ones until Ctrl-C", async () => {
    const first = await client.put("cli/w/a", "1");
    await client.delete("cli/w/a");
    const watch = start(["watch", "cli/w/", "--prefix", "--rev", String(first.revision)]);
    await watch.output(/DELETE cli\/w\/a\n/);
    const live = await client.put("cli/w/b", "2");
    await watch.output(/PUT cli\/w\/b 2\n/);
    watch.interrupt();
    const r = await watch.exited();
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe(
      `${first.revision} PUT cli/w/a 1\n${first.revision + 1} DELETE cli/w/a\n${live.revision} PUT cli/w/b 2\n`,
    );
  });

  it("lock: a holder until Ctrl-C, a waiter that runs a command with a higher fencing token", async () => {
    const holder = start(["lock", "cli-lock", "--json"]);
    const acquired = JSON.parse((await holder.output(/^.*"acquired".*$/m))[0]);
    const waiter = start([
      "lock",
      "cli-lock",
      "--",
      process.execPath,
      "-e",
      "console.log('token ' + process.env.DENGINE_LOCK_REVISION)",
    ]);
    // The waiter queues its key behind the holder's before the holder lets go.
    const queue = acquired.key.replace(/[^/]+$/, "");
    await waitFor("the waiter to queue", async () => (await client.prefix(queue)).count === 2);
    holder.interrupt();
    expect((await holder.exited()).code).toBe(0);
    const r = await waiter.exited();
    expect(r.code, r.stderr).toBe(0);
    const token = Number(/fencing token (\d+)\n/.exec(r.stdout)?.[1]);
    expect(token).toBeGreaterThan(acquired.revision);
    expect(r.stdout).toContain(`\ntoken ${token}\nunlocked cli-lock\n`);
  });

  it("elect: a candidate leads, a listener sees it and its resignation; lease keep-alive --once", async () => {
    const candidate = start(["elect", "cli-election", "alpha"]);
    await candidate.output(/^elected cli-election: alpha/m);
    const listener = start(["elect", "cli-election", "--listen"]);
    await listener.output(/^leader of cli-election: alpha \(key \S+, revision \d+\)$/m);
    candidate.interrupt();
    expect((await candidate.exited()).stdout).toMatch(/\nresigned cli-election\n$/);
    await listener.output(/^cli-election has no leader$/m);
    listener.interrupt();
    expect((await listener.exited()).code).toBe(0);

    const { id } = await client.leases.grant(30);
    expect(ok(await cli(["lease", "keep-alive", String(id), "--once"])).stdout).toBe(
      `lease ${id} renewed, TTL 30s\n`,
    );
  });

  it("snapshot save writes a whole file; compact makes old revisions unreadable", async () => {
    const file = join(dir, "backup.snap");
    const saved = JSON.parse(ok(await cli(["snapshot", "save", file, "--json"])).stdout);
    expect(saved.file).toBe(file);
    expect(saved.bytes).toBeGreaterThan(0);
    expect((await stat(file)).size).toBe(saved.bytes);
    expect(await readdir(dir), "no temporary file left").toEqual(["backup.snap"]);

    const old = await client.put("cli/old", "1");
    const now = await client.put("cli/old", "2");
    expect(JSON.parse(ok(await cli(["compact", String(now.revision), "--json"])).stdout)).toEqual({
      revision: now.revision,
    });
    const gone = await cli(["get", "cli/old", "--rev", String(old.revision)]);
    expect(gone.code, gone.stderr).toBe(1);
    expect(gone.stderr).toMatch(/^d-engine get: .+ \(compacted\)\n$/);
    expect(gone.stdout).toBe("");

    const usage = await cli(["get", "cli/old", "--consistency", "strong"]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain("argument 'strong' is invalid");
  });
});
