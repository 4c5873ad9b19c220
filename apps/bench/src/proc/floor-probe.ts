// The floor under a single-client write on this machine: a replicated durable write with nothing
// else. Three processes on 127.0.0.1 (floor-probe-worker.ts) do what a write must: the leader
// sends a 300-byte record to two followers over plain TCP and appends it to its log while the
// followers append theirs, every append O_DSYNC into a file already full of zeros (as d-engine's
// file log writes into space it preallocated); the write is done when the leader's append is
// durable and one follower has answered. No Raft, no HTTP/2, no state machine, no client API.
//
// Why: the single-client goals are ratios against etcd and a p99 in milliseconds, and the
// machine's disk and scheduler decide most of a write's time (docs/benchmarks.md). This line says
// how far any store could go here, in the same run: d-engine's and etcd's rows read against it.
import { type ChildProcess, fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Latencies } from "../load/latency.js";
import { nextMessage } from "./child-messages.js";
import type { FloorReport } from "./floor-probe-worker.js";

/** How errors name this probe's processes. */
const WHO = "a floor probe process";

/** Bytes per record: about one single-client write's log entry, as in the disk probe. */
export const FLOOR_RECORD_BYTES = 300;

/** The most a probe may take before it is abandoned (it is a few seconds at full size). */
const FLOOR_PROBE_TIMEOUT_MS = 120_000;

export interface FloorProbe {
  readonly writes: number;
  readonly recordBytes: number;
  readonly opsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface FloorProbeOptions {
  /** Where the three logs go (default: the OS temp directory, where the clusters keep data). */
  readonly dir?: string;
  /** The built worker script (default: the one beside this module, in dist/). */
  readonly worker?: string;
}

/** Writes before the timed ones, not counted: the processes' code gets compiled first. */
export function floorWarmupWrites(writes: number): number {
  return Math.min(500, writes);
}

/** Times `writes` replicated durable writes, one after another (after a warmup). */
export async function probeFloor(writes: number, o: FloorProbeOptions = {}): Promise<FloorProbe> {
  const worker = o.worker ?? fileURLToPath(new URL("./floor-probe-worker.js", import.meta.url));
  const scratch = await mkdtemp(join(o.dir ?? tmpdir(), "dengine-bench-floor-"));
  const children: ChildProcess[] = [];
  const spawn = (args: string[]) => {
    const c = fork(worker, args, { stdio: ["ignore", "ignore", "inherit", "ipc"] });
    children.push(c);
    return c;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`the floor probe took over ${FLOOR_PROBE_TIMEOUT_MS} ms`)),
        FLOOR_PROBE_TIMEOUT_MS,
      );
    });
    const run = async () => {
      const bytes = String(FLOOR_RECORD_BYTES);
      const followers = [1, 2].map((i) => spawn(["follower", join(scratch, `f${i}.log`), bytes]));
      const ports = await Promise.all(
        followers.map(async (f) => String(((await nextMessage(f, WHO)) as { port: number }).port)),
      );
      const total = String(floorWarmupWrites(writes) + writes);
      const leader = spawn(["leader", join(scratch, "leader.log"), total, bytes, ...ports]);
      return (await nextMessage(leader, WHO)) as FloorReport;
    };
    const report = await Promise.race([run(), timeout]);
    const latencies = new Latencies(writes);
    let totalMs = 0;
    for (const ms of report.latenciesMs.slice(floorWarmupWrites(writes))) {
      latencies.record(ms);
      totalMs += ms;
    }
    const s = latencies.summary();
    const opsPerSec = totalMs > 0 ? (latencies.count * 1000) / totalMs : 0;
    return {
      writes: latencies.count,
      recordBytes: FLOOR_RECORD_BYTES,
      opsPerSec,
      p50Ms: s.p50Ms,
      p99Ms: s.p99Ms,
    };
  } finally {
    clearTimeout(timer);
    for (const c of children) if (c.exitCode === null) c.kill();
    await Promise.all(children.map(exited));
    await rm(scratch, { recursive: true, force: true });
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** One line for the machine header. */
export function describeFloor(f: FloorProbe): string {
  return `floor: a replicated durable write with nothing else (3 processes, ${f.recordBytes}-byte records over TCP, O_DSYNC appends into preallocated files, done at the leader's and one follower's): ${Math.round(f.opsPerSec).toLocaleString("en-US")} writes/s, p50 ${f.p50Ms.toFixed(2)} ms, p99 ${f.p99Ms.toFixed(2)} ms`;
}
