// Real server processes on 127.0.0.1: start with no config file, serve, stop on SIGTERM with exit
// code 0, restart where they left off; a three-node cluster whose leader hands over on SIGTERM;
// the local-cluster script. Ports are picked free (the default 9081 may be in use on a shared
// machine), so the "no config" runs set only DENGINE_LISTEN.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type DEngineClient } from "@d-engine/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  freePort,
  freePortRange,
  killAll,
  LOCAL_CLUSTER,
  MAIN,
  type Proc,
  start,
} from "./support/processes.js";

const dirs: string[] = [];
const clients: DEngineClient[] = [];

beforeAll(assertBuilt);
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  killAll();
});
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), "d-engine-server-"));
  dirs.push(d);
  return d;
}

function client(endpoints: string[]): DEngineClient {
  const c = createClient({ endpoints, timeoutMs: 10_000 });
  clients.push(c);
  return c;
}

const isServing = (r: Record<string, unknown>) => r.event === "serving";
const text = (b: Uint8Array | undefined) => (b ? new TextDecoder().decode(b) : undefined);

/** Sends SIGTERM and expects a clean exit: code 0, "stopped" as the last log line. */
async function stopCleanly(p: Proc): Promise<void> {
  p.child.kill("SIGTERM");
  const exit = await p.waitForExit(20_000);
  expect(exit, p.stderr()).toEqual({ code: 0, signal: null });
  expect(p.records().at(-1)?.msg).toBe("stopped");
}

describe("d-engine start", { timeout: 60_000 }, () => {
  it("with no config file serves a single durable node under ./data and exits 0 on SIGTERM", async () => {
    const cwd = tempDir();
    const address = `127.0.0.1:${await freePort()}`;
    const p = start(MAIN, ["start"], { cwd, env: { DENGINE_LISTEN: address } });
    const serving = await p.waitForRecord(isServing, 20_000);
    expect(serving).toMatchObject({
      nodeId: 1,
      clusterId: "d-engine",
      address,
      dataDir: join(cwd, "data"),
      leaderId: 1,
    });
    expect(existsSync(join(cwd, "data"))).toBe(true);
    expect(p.records().filter(isServing)).toHaveLength(1);
    await stopCleanly(p);
    expect(p.records().some((r) => r.signal === "SIGTERM")).toBe(true);
  });

  it("a restart with the same data dir picks up where it left off", async () => {
    const cwd = tempDir();
    const address = `127.0.0.1:${await freePort()}`;
    const first = start(MAIN, ["start", "--listen", address], { cwd });
    await first.waitForRecord(isServing, 20_000);
    const c1 = client([address]);
    const put = await c1.put("greeting", "hello");
    await c1.close();
    await stopCleanly(first);

    const second = start(MAIN, ["start", "--listen", address], { cwd });
    await second.waitForRecord(isServing, 20_000);
    const c2 = client([address]);
    const kv = await c2.get("greeting");
    expect(text(kv?.value)).toBe("hello");
    expect(kv?.modRevision).toBe(put.revision);
    const next = await c2.put("greeting", "again");
    expect(next.revision).toBeGreaterThan(put.revision);
    await stopCleanly(second);
  });

  it("a port in use fails the start with exit 1 and the reason, and frees the data dir", async () => {
    const cwd = tempDir();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, "127.0.0.1", r));
    const taken = (blocker.address() as { port: number }).port;
    try {
      const p = start(MAIN, ["start", "--listen", `127.0.0.1:${taken}`], { cwd });
      const exit = await p.waitForExit(20_000);
      expect(exit.code).toBe(1);
      const failure = p.records().find((r) => String(r.msg).startsWith("failed to start"));
      expect(failure?.msg).toMatch(/EADDRINUSE/);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
    // The same data dir starts cleanly on a free port: the failed start released it.
    const address = `127.0.0.1:${await freePort()}`;
    const again = start(MAIN, ["start", "--listen", address], { cwd });
    await again.waitForRecord(isServing, 20_000);
    await stopCleanly(again);
  });
});

describe("three nodes", { timeout: 90_000 }, () => {
  it("form a cluster from flags; SIGTERM to the leader hands leadership to another node", async () => {
    const cwd = tempDir();
    const base = await freePortRange(3);
    const addr = (id: number) => `127.0.0.1:${base + id}`;
    const initial = [1, 2, 3].map((id) => `${id}=${addr(id)}`).join(",");
    const procs = new Map<number, Proc>();
    for (const id of [1, 2, 3]) {
      procs.set(
        id,
        start(
          MAIN,
          [
            "start",
            "--id",
            String(id),
            "--cluster-id",
            "three",
            "--listen",
            addr(id),
            "--data-dir",
            `n${id}`,
            "--initial-cluster",
            initial,
          ],
          { cwd },
        ),
      );
    }
    await Promise.all([...procs.values()].map((p) => p.waitForRecord(isServing, 30_000)));
    const all = client([1, 2, 3].map(addr));
    const { revision } = await all.put("k", "v1");
    const { leaderId } = await all.cluster.leader();
    expect([1, 2, 3]).toContain(leaderId);
    await all.close();

    const leader = procs.get(leaderId)!;
    await stopCleanly(leader);
    // The engine names the node it hands leadership to, and warns if the handover timed out.
    const handover = leader
      .records()
      .map((r) => /handing leadership to node (\d+)/.exec(String(r.msg)))
      .find((m) => m !== null);
    expect(handover, leader.stdout()).toBeDefined();
    const target = Number(handover![1]);
    expect(leader.records().filter((r) => r.level === 40)).toEqual([]);
    const others = [1, 2, 3].filter((id) => id !== leaderId);
    expect(others).toContain(target);
    const rest = client(others.map(addr));
    expect((await rest.cluster.leader()).leaderId).toBe(target);
    const kv = await rest.get("k");
    expect(text(kv?.value)).toBe("v1");
    expect((await rest.put("k", "v2")).revision).toBeGreaterThan(revision);
    for (const id of others) await stopCleanly(procs.get(id)!);
  });
});

describe("scripts/local-cluster.mjs", { timeout: 90_000 }, () => {
  it("starts three nodes, prints the endpoints, and stops them all on Ctrl-C", async () => {
    const cwd = tempDir();
    const base = await freePortRange(3, 31_000);
    const endpoints = [1, 2, 3].map((id) => `127.0.0.1:${base + id}`);
    // Detached, so the SIGINT below reaches the script alone, as a terminal's Ctrl-C would
    // reach the script (its nodes run in process groups of their own).
    const script = start(LOCAL_CLUSTER, ["--base-port", String(base)], { cwd, detached: true });
    const line = await script.waitForLine((l) => l.startsWith("endpoints: "), 40_000);
    expect(line).toBe(`endpoints: ${endpoints.join(",")}`);
    for (const id of [1, 2, 3]) {
      expect(existsSync(join(cwd, "data", "local-cluster", `node-${id}`))).toBe(true);
    }
    const c = client(endpoints);
    await c.put("x", "1");
    expect(text((await c.get("x"))?.value)).toBe("1");
    await c.close();

    script.child.kill("SIGINT");
    const exit = await script.waitForExit(30_000);
    expect(exit, script.stdout() + script.stderr()).toEqual({ code: 0, signal: null });
    for (const id of [1, 2, 3]) expect(script.stdout()).toContain(`[node ${id}] stopped (code 0)`);
  });
});
