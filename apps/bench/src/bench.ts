// The benchmark: each mode's cluster started in turn (embedded, standalone, etcd), every scenario
// run against it in the same order, its server processes' peak memory read after each scenario,
// then the cluster stopped before the next mode starts so that the modes never share the CPU.

import type { LoadResult } from "./load/run-load.js";
import { startEmbedded } from "./modes/embedded.js";
import { ETCD_INSTALL_HINT, etcdInstalled, etcdVersion, startEtcd } from "./modes/etcd.js";
import type { Mode, ModeName, ModeOptions } from "./modes/mode.js";
import { startStandalone } from "./modes/standalone.js";
import type { BenchOptions } from "./options.js";
import { shuttingDown } from "./proc/cleanup.js";
import { cpuMsAll } from "./proc/cpu.js";
import { probeDisk } from "./proc/disk-probe.js";
import { probeFloor } from "./proc/floor-probe.js";
import { type MachineInfo, machineInfo } from "./report/machine.js";
import type { Row } from "./report/results.js";
import { type LoadSpec, preloadSpec, scenario } from "./scenarios.js";

export interface BenchReport {
  readonly date: string;
  readonly machine: MachineInfo;
  readonly options: BenchOptions;
  readonly rows: Row[];
  /** Why a mode or the etcd reference did not run (or stopped early). */
  readonly notes: string[];
  /** A mode failed, or a row had errors. */
  readonly failed: boolean;
}

export async function runBench(
  opts: BenchOptions,
  progress: (line: string) => void,
): Promise<BenchReport> {
  const version = await etcdVersion();
  // Before any cluster starts: the probe must have the disk to itself. The load average is read
  // first, so that it is not the probe's.
  const load = machineInfo(version);
  progress("probing the disk");
  const disk = await probeDisk(diskProbeAppends(opts.ops));
  progress("probing a replicated write's floor");
  const floor = await probeFloor(diskProbeAppends(opts.ops));
  const report: BenchReport = {
    date: new Date().toISOString(),
    machine: { ...load, disk, floor },
    options: opts,
    rows: [],
    notes: [],
    failed: false,
  };
  const modeOpts: ModeOptions = {
    connections: opts.connections,
    timeoutMs: opts.timeoutMs,
    ...(opts.cpuProf ? { cpuProfDir: opts.cpuProf } : {}),
    stateMachineFsync: opts.stateMachineFsync,
  };
  const modes: { name: ModeName; start: () => Promise<Mode> }[] = opts.modes.map((m) =>
    m === "embedded"
      ? { name: m, start: () => startEmbedded(modeOpts) }
      : { name: m, start: () => startStandalone(modeOpts) },
  );
  if (opts.etcd) {
    if (etcdInstalled()) modes.push({ name: "etcd", start: () => startEtcd(modeOpts) });
    else report.notes.push(ETCD_INSTALL_HINT);
  }
  let failed = false;
  for (const m of modes) {
    if (shuttingDown()) break;
    progress(`${m.name}: starting a three-node cluster`);
    let mode: Mode | undefined;
    try {
      mode = await m.start();
      progress(`${m.name}: started: pids ${mode.pids.join(", ")}; data in ${mode.dataDir}`);
      let preloaded = false;
      for (const name of opts.scenarios) {
        if (shuttingDown()) break;
        // etcd has no lease read: its serializable get stands in, which the eventual read row
        // already measures (run it here only when that row is not).
        if (
          m.name === "etcd" &&
          name === "lease-read" &&
          opts.scenarios.includes("eventual-read")
        ) {
          continue;
        }
        const s = scenario(name, opts.ops);
        if (s.spec.kind === "read" && !preloaded) {
          progress(`${m.name}: preloading the read keys`);
          await mode.preload(preloadSpec(opts.ops));
          preloaded = true;
        }
        progress(`${m.name}: ${s.label}: ${s.spec.ops} ops, ${s.spec.clients} clients`);
        // A full-size run can take minutes: say it is still going.
        const started = Date.now();
        const ticker = setInterval(
          () =>
            progress(
              `${m.name}: ${s.label}: running for ${Math.round((Date.now() - started) / 1000)} s`,
            ),
          30_000,
        );
        const { result, cpuMsPerOp } = await timedRun(mode, s.spec).finally(() =>
          clearInterval(ticker),
        );
        if (shuttingDown()) break;
        const peakRss = await mode.peakRss();
        report.rows.push({
          scenario: name,
          label: s.label,
          mode: m.name,
          result,
          peakRss,
          cpuMsPerOp,
        });
        if (result.errors > 0) {
          failed = true;
          report.notes.push(
            `${m.name} ${s.label}: ${result.errors} operations failed, the first with: ${result.firstError}`,
          );
        }
        progress(
          `${m.name}: ${s.label}: ${Math.round(result.opsPerSec)} ops/s, p99 ${result.p99Ms.toFixed(2)} ms`,
        );
      }
    } catch (e) {
      failed = true;
      report.notes.push(`${m.name}: stopped early: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      await mode?.stop();
    }
  }
  return { ...report, failed };
}

/**
 * Durable appends per writer in the disk probe, and writes in the floor probe: 2,000 at full
 * size, fewer in a scaled-down run.
 */
export function diskProbeAppends(ops: number): number {
  return Math.max(20, Math.round(2_000 * Math.min(1, ops)));
}

/**
 * The warmup, then the timed run with the CPU time every server process spent during it (read
 * from /proc before and after, so the warmup is not counted), per operation.
 */
async function timedRun(
  mode: Mode,
  spec: LoadSpec,
): Promise<{ result: LoadResult; cpuMsPerOp: number[] }> {
  await mode.warmUp(spec);
  const before = await cpuMsAll(mode.pids);
  const result = await mode.run(spec);
  const after = await cpuMsAll(mode.pids);
  const ops = Math.max(1, result.ops);
  return { result, cpuMsPerOp: after.map((ms, i) => (ms - (before[i] as number)) / ops) };
}
