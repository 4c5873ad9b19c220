// How long this machine's disk takes to make a small append durable: alone, and with three
// writers at once. Measured before the runs and printed with the machine, because it is the floor
// under the single-client write rows: each write waits for its leader's and a follower's log
// appends to be durable, and the three nodes of every mode here (d-engine's and etcd's alike)
// share this one disk, so a write's appends contend with each other. A virtual disk's speed also
// changes from machine to machine and hour to hour (docs/benchmarks.md), which this line shows.
//
// Each writer is its own process (disk-probe-worker.ts) appending to its own file in the directory
// the clusters keep their data in, as a node's log does: O_DSYNC writes of PROBE_APPEND_BYTES, the
// size of one single-client write's log entry (an 8-byte key, a 256-byte value, the framing).
import { fork } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Latencies } from "../load/latency.js";
import { nextMessage } from "./child-messages.js";
import type { ProbeReport } from "./disk-probe-worker.js";

/** How errors name this probe's processes. */
const WHO = "the disk probe's writer";

/** Bytes per probe append: about one single-client write's log entry. */
export const PROBE_APPEND_BYTES = 300;

/** The writer counts probed: one node alone, and a three-node cluster's nodes at once. */
export const PROBE_WRITERS: readonly number[] = [1, 3];

export interface DiskProbeRow {
  /** Processes appending at the same time, each to its own file. */
  readonly writers: number;
  /** Appends timed, over all writers. */
  readonly appends: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export interface DiskProbe {
  /** The directory probed (where the clusters keep their data). */
  readonly dir: string;
  readonly appendBytes: number;
  readonly rows: readonly DiskProbeRow[];
}

export interface DiskProbeOptions {
  /** Where to write (default: the OS temp directory, where the clusters keep their data). */
  readonly dir?: string;
  /** The built worker script (default: the one beside this module, in dist/). */
  readonly worker?: string;
}

/** Probes with `appends` durable appends per writer, for each count in PROBE_WRITERS. */
export async function probeDisk(appends: number, o: DiskProbeOptions = {}): Promise<DiskProbe> {
  const dir = o.dir ?? tmpdir();
  const worker = o.worker ?? fileURLToPath(new URL("./disk-probe-worker.js", import.meta.url));
  const scratch = await mkdtemp(join(dir, "dengine-bench-disk-"));
  try {
    const rows: DiskProbeRow[] = [];
    for (const writers of PROBE_WRITERS) {
      rows.push(await probeWriters(worker, scratch, writers, appends));
    }
    return { dir, appendBytes: PROBE_APPEND_BYTES, rows };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** `writers` processes at once, each timing `appends` appends; their latencies pooled. */
async function probeWriters(
  worker: string,
  dir: string,
  writers: number,
  appends: number,
): Promise<DiskProbeRow> {
  const children = Array.from({ length: writers }, (_, i) =>
    fork(worker, [join(dir, `w${writers}-${i}.bin`), String(appends), String(PROBE_APPEND_BYTES)], {
      stdio: ["ignore", "ignore", "inherit", "ipc"],
    }),
  );
  try {
    // Every writer opens its file first; then all start together, so that their appends overlap.
    await Promise.all(children.map((c) => nextMessage(c, WHO)));
    const reports = children.map((c) => nextMessage(c, WHO) as Promise<ProbeReport>);
    for (const c of children) c.send("go");
    const latencies = new Latencies(writers * appends);
    for (const r of await Promise.all(reports))
      for (const ms of r.latenciesMs) latencies.record(ms);
    const s = latencies.summary();
    return { writers, appends: latencies.count, p50Ms: s.p50Ms, p99Ms: s.p99Ms };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

/** One line for the machine header. */
export function describeDisk(p: DiskProbe): string {
  const rows = p.rows.map(
    (r) =>
      `${r.writers === 1 ? "1 writer" : `${r.writers} writers at once`} p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`,
  );
  return `disk: ${p.appendBytes}-byte durable (O_DSYNC) appends in ${p.dir}: ${rows.join("; ")}`;
}
