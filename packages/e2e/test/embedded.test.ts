// Issue 5, test 6: embedded mode. Three engines in three processes, each driven through its
// in-process client: puts (a follower forwards to the leader), reads at each consistency, CAS,
// and a failover when the leader's process is killed.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../src/ports.js";
import { waitFor } from "../src/wait.js";

const require = createRequire(import.meta.url);
const script = join(
  require.resolve("@d-engine/e2e/package.json"),
  "..",
  "dist",
  "embedded-node.js",
);

interface Reply {
  readonly id: number;
  readonly ok: boolean;
  readonly value?: unknown;
  readonly error?: string;
}

/** One embedded-node child and a request/reply channel to it. */
class EmbeddedProcess {
  private next = 1;
  private readonly waiting = new Map<number, (r: Reply) => void>();
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(readonly child: ChildProcess) {
    let markReady: () => void = () => {};
    this.ready = new Promise((resolve) => {
      markReady = resolve;
    });
    child.on("message", (r: Reply) => {
      if (r.id === 0) markReady();
      this.waiting.get(r.id)?.(r);
      this.waiting.delete(r.id);
    });
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
  }

  async call(op: string, ...args: unknown[]): Promise<unknown> {
    const id = this.next++;
    const reply = new Promise<Reply>((resolve) => this.waiting.set(id, resolve));
    this.child.send({ id, op, args });
    const r = await reply;
    if (!r.ok) throw new Error(r.error);
    return r.value;
  }
}

let dir: string;
const nodes = new Map<number, EmbeddedProcess>();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "dengine-embedded-"));
  const ports = await freePorts(3);
  const initial = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(",");
  ports.forEach((p, i) => {
    const id = i + 1;
    const child = fork(
      script,
      [String(id), "embedded", `127.0.0.1:${p}`, initial, join(dir, `node-${id}`)],
      {
        stdio: ["ignore", "ignore", "pipe", "ipc"],
      },
    );
    nodes.set(id, new EmbeddedProcess(child));
  });
  await Promise.all([...nodes.values()].map((n) => n.ready));
});

afterAll(async () => {
  for (const n of nodes.values()) n.child.kill("SIGKILL");
  await Promise.all([...nodes.values()].map((n) => n.exited));
  await rm(dir, { recursive: true, force: true });
});

interface StatusLike {
  readonly leaderId: number;
  readonly role: string;
}

async function leaderAmong(ids: readonly number[], exclude = 0): Promise<number> {
  return waitFor("the embedded engines to agree on a leader", async () => {
    const seen = new Set<number>();
    for (const id of ids) {
      const status = (await (nodes.get(id) as EmbeddedProcess).call("status")) as StatusLike;
      seen.add(status.leaderId);
    }
    const [only] = [...seen];
    return seen.size === 1 && only && only !== exclude ? only : undefined;
  });
}

describe("three embedded engines in three processes", () => {
  it("serve writes (forwarded from followers), reads at every consistency and CAS in-process", async () => {
    const leader = await leaderAmong([1, 2, 3]);
    const follower = [1, 2, 3].find((id) => id !== leader) as number;
    const f = nodes.get(follower) as EmbeddedProcess;
    // A follower's in-process client forwards the write to the leader.
    const rev = (await f.call("put", "k", "v1")) as number;
    expect(rev).toBeGreaterThan(0);
    for (const id of [1, 2, 3]) {
      const n = nodes.get(id) as EmbeddedProcess;
      expect(await n.call("get", "k", "linearizable")).toBe("v1");
      await waitFor(
        `node ${id}'s eventual read`,
        async () => (await n.call("get", "k", "eventual")) === "v1",
      );
    }
    expect(await nodes.get(leader)?.call("get", "k", "lease")).toBe("v1");
    expect(await f.call("cas", "k", "v1", "v2")).toBe(true);
    expect(await f.call("cas", "k", "v1", "v3")).toBe(false);
    expect(await nodes.get(leader)?.call("get", "k", "linearizable")).toBe("v2");
  });

  it("fail over when the leader's process is killed", async () => {
    const leader = await leaderAmong([1, 2, 3]);
    const rest = [1, 2, 3].filter((id) => id !== leader);
    const l = nodes.get(leader) as EmbeddedProcess;
    l.child.kill("SIGKILL");
    await l.exited;
    const next = await leaderAmong(rest, leader);
    expect(rest).toContain(next);
    const other = nodes.get(rest.find((id) => id !== next) as number) as EmbeddedProcess;
    await waitFor("a write after the failover", async () => {
      await other.call("put", "after", "failover");
      return true;
    });
    expect(await other.call("get", "after", "linearizable")).toBe("failover");
    expect(await other.call("get", "k", "linearizable")).toBe("v2");
  });
});
