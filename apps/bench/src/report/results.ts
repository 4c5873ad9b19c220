// One row of the table: a scenario run in one mode, with its server processes' peak memory.
import type { LoadResult } from "../load/run-load.js";
import type { ModeName } from "../modes/mode.js";
import type { ScenarioName } from "../scenarios.js";

export interface Row {
  readonly scenario: ScenarioName;
  readonly label: string;
  readonly mode: ModeName;
  readonly result: LoadResult;
  /** Peak RSS of each server process in bytes, the one serving the load first. */
  readonly peakRss: readonly number[];
  /**
   * CPU time (user + system, ms) each server process spent during the timed run, per operation,
   * in the same order; NaN where it could not be read (not Linux).
   */
  readonly cpuMsPerOp: readonly number[];
}

/**
 * The etcd row a d-engine row compares with: the same scenario, except that lease reads (which
 * etcd lacks) compare with etcd's serializable reads.
 */
export function etcdCounterpart(rows: readonly Row[], scenario: ScenarioName): Row | undefined {
  const etcd = (s: ScenarioName) => rows.find((r) => r.mode === "etcd" && r.scenario === s);
  // etcd's "lease read" row, when there is one, is a serializable get too.
  return scenario === "lease-read" ? (etcd("eventual-read") ?? etcd("lease-read")) : etcd(scenario);
}

/** d-engine's ops/s over etcd's for the same scenario, or undefined without an etcd row. */
export function ratio(rows: readonly Row[], row: Row): number | undefined {
  if (row.mode === "etcd") return undefined;
  const e = etcdCounterpart(rows, row.scenario);
  if (!e || e.result.opsPerSec <= 0) return undefined;
  return row.result.opsPerSec / e.result.opsPerSec;
}
