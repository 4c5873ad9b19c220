// Embedded mode: three processes, each running a networked embedded engine (embedded-driver.js).
// The load runs inside the leader's process through its in-process client; this process only
// sends commands and receives the figures.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePorts, waitFor } from "@d-engine/e2e";
import type { LoadResult } from "../load/run-load.js";
import { trackPid } from "../proc/cleanup.js";
import { peakRssAll } from "../proc/rss.js";
import type { LoadSpec } from "../scenarios.js";
import type { DriverReply, DriverRequest, DriverStatus } from "./embedded-driver.js";
import { guardMode, type Mode, type ModeOptions } from "./mode.js";

const DRIVER = fileURLToPath(new URL("./embedded-driver.js", import.meta.url));

/** A request without its id (the channel numbers them). */
type Command<R = DriverRequest> = R extends unknown ? Omit<R, "id"> : never;

/** One embedded node's process and a request/reply channel to it. */
class DriverProcess {
  private next = 1;
  private readonly waiting = new Map<number, (r: DriverReply) => void>();
  private stderr = "";
  readonly ready: Promise<void>;
  readonly exited: Promise<void>;

  constructor(
    readonly nodeId: number,
    readonly child: ChildProcess,
  ) {
    this.ready = new Promise((resolve, reject) => {
      child.on("message", (r: DriverReply) => {
        if (r.id === 0) resolve();
        this.waiting.get(r.id)?.(r);
        this.waiting.delete(r.id);
      });
      child.once("exit", (code) =>
        reject(new Error(`embedded node ${nodeId} exited (${code}): ${this.stderr.slice(-2000)}`)),
      );
    });
    this.ready.catch(() => undefined);
    this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    child.stderr?.on("data", (b: Buffer) => {
      this.stderr = (this.stderr + b.toString()).slice(-20_000);
    });
    // A node that dies answers every pending call with its last words.
    child.once("exit", (code) => {
      for (const [id, answer] of this.waiting) {
        answer({
          id,
          ok: false,
          error: `embedded node ${nodeId} exited (${code}): ${this.stderr.slice(-2000)}`,
        });
      }
      this.waiting.clear();
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async call<T>(cmd: Command): Promise<T> {
    if (!this.running) throw new Error(`embedded node ${this.nodeId} is not running`);
    const id = this.next++;
    const reply = new Promise<DriverReply>((resolve) => this.waiting.set(id, resolve));
    this.child.send({ ...cmd, id });
    const r = await reply;
    if (!r.ok) throw new Error(r.error);
    return r.value as T;
  }
}

export async function startEmbedded(opts: ModeOptions): Promise<Mode> {
  const dir = await mkdtemp(join(tmpdir(), "dengine-bench-embedded-"));
  const ports = await freePorts(3);
  const initial = ports.map((p, i) => `${i + 1}=127.0.0.1:${p}`).join(",");
  const nodes = ports.map((p, i) => {
    const id = i + 1;
    const args = [String(id), `127.0.0.1:${p}`, initial, join(dir, `node-${id}`)];
    if (opts.stateMachineFsync) args.push("--state-machine-fsync");
    const child = fork(DRIVER, args, {
      stdio: ["ignore", "ignore", "pipe", "ipc"],
      execArgv: [
        ...process.execArgv,
        ...(opts.cpuProfDir ? ["--cpu-prof", `--cpu-prof-dir=${opts.cpuProfDir}`] : []),
      ],
    });
    return new DriverProcess(id, child);
  });
  const untrack = nodes.map((n) => trackPid(n.child.pid));
  const stopCluster = async () => {
    // Graceful first, up to each node's exit (a CPU profile is written then), bounded; then
    // SIGKILL: the data is thrown away anyway.
    await Promise.race([
      Promise.allSettled(nodes.map((n) => n.call({ op: "stop" }).then(() => n.exited))),
      new Promise((resolve) => setTimeout(resolve, 15_000).unref()),
    ]);
    for (const n of nodes) if (n.running) n.child.kill("SIGKILL");
    await Promise.all(nodes.map((n) => n.exited));
    for (const u of untrack) u();
    await rm(dir, { recursive: true, force: true });
  };
  return guardMode(stopCluster, async () => {
    await Promise.all(nodes.map((n) => n.ready));
    const leaderId = await waitFor(
      "the three embedded nodes to agree on a leader",
      async () => {
        const s = await Promise.all(nodes.map((n) => n.call<DriverStatus>({ op: "status" })));
        const leaders = new Set(s.map((x) => x.leaderId));
        const [only] = [...leaders];
        return leaders.size === 1 && only ? only : undefined;
      },
      30_000,
    );
    const leader = nodes.find((n) => n.nodeId === leaderId);
    if (!leader) throw new Error(`leader ${leaderId} is not one of the embedded nodes`);
    const order = [leader, ...nodes.filter((n) => n !== leader)];
    return {
      name: "embedded",
      pids: order.map((n) => n.child.pid ?? 0),
      dataDir: dir,
      warmUp: async (spec: LoadSpec) => {
        await leader.call<boolean>({ op: "warmup", spec });
      },
      run: (spec: LoadSpec) => leader.call<LoadResult>({ op: "run", spec }),
      async preload(spec: LoadSpec) {
        await leader.call<boolean>({ op: "preload", spec });
      },
      peakRss: () => peakRssAll(order.map((n) => n.child.pid)),
    };
  });
}
