// The command line: which scenarios and modes, how big, whether etcd runs, how to print.
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import type { ModeName } from "./modes/mode.js";
import { SCENARIO_NAMES, type ScenarioName } from "./scenarios.js";

export interface BenchOptions {
  readonly scenarios: readonly ScenarioName[];
  /** d-engine modes; etcd runs unless `etcd` is false. */
  readonly modes: readonly Exclude<ModeName, "etcd">[];
  readonly etcd: boolean;
  /** Scale factor on every scenario's operation count (1: the full size). */
  readonly ops: number;
  /** The most connections the 1,000 logical clients share in the network modes. */
  readonly connections: number;
  readonly timeoutMs: number;
  readonly json: boolean;
  /** Write a V8 CPU profile of every d-engine node process into this directory. */
  readonly cpuProf?: string;
  /** fsync d-engine's state machine on every applied batch too (the pre-issue-7 behaviour). */
  readonly stateMachineFsync: boolean;
}

export const USAGE = `usage: npm run bench -- [options]

  --scenarios <list>   comma-separated, default all: ${SCENARIO_NAMES.join(", ")}
  --modes <list>       d-engine modes, default both: embedded, standalone
  --ops <factor>       scale every scenario's operation count (default 1: 10,000 / 100,000)
  --connections <n>    connections the logical clients share in network modes (default 100)
  --timeout-ms <ms>    deadline of each call (default 60000)
  --no-etcd            skip the etcd reference (and the ratios)
  --json               print one JSON document instead of the tables
  --cpu-prof <dir>     write a CPU profile (.cpuprofile) of every d-engine node process there
  --state-machine-fsync
                       also fsync d-engine's state machine on every applied batch (default:
                       flushed in the background; the log is always fsynced)
  --help               this text`;

export class UsageError extends Error {}

function list<T extends string>(flag: string, raw: string | undefined, all: readonly T[]): T[] {
  if (raw === undefined) return [...all];
  const picked = raw
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  for (const p of picked) {
    if (!all.includes(p as T)) {
      throw new UsageError(`${flag}: unknown "${p}" (one of ${all.join(", ")})`);
    }
  }
  // The canonical order, whatever order they were given in.
  return all.filter((a) => picked.includes(a));
}

function positive(flag: string, raw: string | undefined, dflt: number, integer: boolean): number {
  if (raw === undefined) return dflt;
  const x = Number(raw);
  if (!Number.isFinite(x) || x <= 0 || (integer && !Number.isInteger(x))) {
    throw new UsageError(
      `${flag}: expected a positive ${integer ? "integer" : "number"}, got "${raw}"`,
    );
  }
  return x;
}

/** Parses the arguments; undefined for --help. Throws UsageError on a bad one. */
export function parseBenchArgs(args: readonly string[]): BenchOptions | undefined {
  let v: ReturnType<typeof parse>["values"];
  try {
    v = parse(args).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (v.help) return undefined;
  const modes = list("--modes", v.modes, ["embedded", "standalone"] as const);
  const scenarios = list("--scenarios", v.scenarios, SCENARIO_NAMES);
  if (scenarios.length === 0) throw new UsageError("--scenarios: none given");
  return {
    scenarios,
    modes,
    etcd: !v["no-etcd"],
    ops: positive("--ops", v.ops, 1, false),
    connections: positive("--connections", v.connections, 100, true),
    timeoutMs: positive("--timeout-ms", v["timeout-ms"], 60_000, true),
    json: v.json ?? false,
    ...(v["cpu-prof"] ? { cpuProf: resolve(v["cpu-prof"]) } : {}),
    stateMachineFsync: v["state-machine-fsync"] ?? false,
  };
}

function parse(args: readonly string[]) {
  return parseArgs({
    args: [...args],
    options: {
      scenarios: { type: "string" },
      modes: { type: "string" },
      ops: { type: "string" },
      connections: { type: "string" },
      "timeout-ms": { type: "string" },
      "no-etcd": { type: "boolean" },
      json: { type: "boolean" },
      "cpu-prof": { type: "string" },
      "state-machine-fsync": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
    allowPositionals: false,
  });
}
