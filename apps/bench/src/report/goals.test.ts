import { describe, expect, it } from "vitest";
import type { LoadResult } from "../load/run-load.js";
import type { ModeName } from "../modes/mode.js";
import { type ScenarioName, scenario } from "../scenarios.js";
import { evaluateGoals, formatGoalLines } from "./goals.js";
import type { Row } from "./results.js";
import { formatTable } from "./table.js";

function row(name: ScenarioName, mode: ModeName, opsPerSec: number, p99Ms = 1): Row {
  const result: LoadResult = {
    ops: 100,
    errors: 0,
    clients: 1,
    connections: 1,
    elapsedMs: 1,
    opsPerSec,
    p50Ms: 0.5,
    p99Ms,
    p999Ms: 2,
    maxMs: 3,
    meanMs: 0.6,
  };
  return {
    scenario: name,
    label: scenario(name).label,
    mode,
    result,
    peakRss: [3 * 2 ** 20],
    cpuMsPerOp: [0.5],
  };
}

describe("goal lines", () => {
  it("print d-engine over etcd for the same scenario, lease reads against etcd's serializable", () => {
    const rows = [
      row("high-concurrency-write", "embedded", 44_800),
      row("high-concurrency-write", "etcd", 4_000),
      row("single-client-write", "embedded", 1_700, 1.7),
      row("lease-read", "embedded", 1_234_567.4),
      row("lease-read", "standalone", 9_000),
      row("eventual-read", "etcd", 3_000),
    ];
    const lines = formatGoalLines(evaluateGoals(rows)).split("\n");
    expect(lines).toContain("ratio high-concurrency write embedded vs etcd: 11.2");
    expect(lines).toContain("single-client write embedded p99 ms: 1.70");
    expect(lines).toContain("lease read embedded ops/s: 1234567");
    expect(lines).toContain("ratio lease read standalone vs etcd: 3.00");
    // No etcd single-client row: the ratio is n/a, not a made-up figure.
    expect(lines).toContain("ratio single-client write embedded vs etcd: n/a");
    // Goals whose d-engine row did not run are left out.
    expect(lines.some((l) => l.includes("linearizable read"))).toBe(false);
  });

  it("compare lease reads with an etcd lease row (serializable) when etcd ran no eventual read", () => {
    const rows = [row("lease-read", "standalone", 5_000), row("lease-read", "etcd", 2_000)];
    expect(formatGoalLines(evaluateGoals(rows))).toBe("ratio lease read standalone vs etcd: 2.50");
  });

  it("judge each goal against issue 7's bound", () => {
    const goals = evaluateGoals([
      row("single-client-write", "embedded", 100, 2.5),
      row("high-concurrency-write", "standalone", 8_001),
      row("high-concurrency-write", "etcd", 4_000),
    ]);
    const met = Object.fromEntries(goals.map((g) => [g.name, g.met]));
    expect(met["single-client write embedded p99 ms"]).toBe(false);
    expect(met["ratio high-concurrency write standalone vs etcd"]).toBe(true);
    expect(met["ratio single-client write embedded vs etcd"]).toBeUndefined();
  });

  it("show every row in the table with its ratio", () => {
    const t = formatTable([
      row("hot-key", "standalone", 8_000),
      row("hot-key", "etcd", 4_000),
    ]).split("\n");
    expect(t).toHaveLength(4);
    expect(t[2]).toMatch(/^\| hot key\s+\| standalone .*\|\s+8,000 \|.*\|\s+2\.00x \|$/);
    expect(t[3]).toMatch(/\| etcd /);
  });
});
