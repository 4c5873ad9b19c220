// Issue 7's goal table as lines, one per goal, the figure last: "ratio high-concurrency write
// embedded vs etcd: 11.2", "single-client write embedded p99 ms: 1.7", "lease read embedded ops/s:
// 1234567". A goal whose d-engine row was not run is left out; one that needs etcd when etcd did
// not run says "n/a".
import type { ModeName } from "../modes/mode.js";
import type { ScenarioName } from "../scenarios.js";
import { type Row, ratio } from "./results.js";

export interface Goal {
  readonly scenario: ScenarioName;
  readonly mode: Exclude<ModeName, "etcd">;
  readonly measure: "ratio" | "p99" | "ops";
  /** The bound: ratio and ops at least this, p99 below it. */
  readonly target: number;
}

export const GOALS: readonly Goal[] = [
  { scenario: "single-client-write", mode: "embedded", measure: "ratio", target: 2 },
  { scenario: "single-client-write", mode: "embedded", measure: "p99", target: 2 },
  { scenario: "single-client-write", mode: "standalone", measure: "ratio", target: 1.5 },
  { scenario: "high-concurrency-write", mode: "embedded", measure: "ratio", target: 10 },
  { scenario: "high-concurrency-write", mode: "standalone", measure: "ratio", target: 2 },
  { scenario: "linearizable-read", mode: "embedded", measure: "ratio", target: 10 },
  { scenario: "linearizable-read", mode: "standalone", measure: "ratio", target: 2 },
  { scenario: "lease-read", mode: "embedded", measure: "ops", target: 1_000_000 },
  { scenario: "eventual-read", mode: "embedded", measure: "ops", target: 1_000_000 },
  { scenario: "lease-read", mode: "standalone", measure: "ratio", target: 2 },
  { scenario: "eventual-read", mode: "standalone", measure: "ratio", target: 2 },
];

export interface GoalResult {
  readonly goal: Goal;
  /** "ratio high-concurrency write embedded vs etcd" */
  readonly name: string;
  readonly value: number | undefined;
  readonly met: boolean | undefined;
  /** "11.2", or "n/a" without an etcd row. */
  readonly text: string;
}

function fmtRatio(x: number): string {
  return x >= 10 ? x.toFixed(1) : x.toFixed(2);
}

export function evaluateGoals(rows: readonly Row[]): GoalResult[] {
  const out: GoalResult[] = [];
  for (const goal of GOALS) {
    const row = rows.find((r) => r.scenario === goal.scenario && r.mode === goal.mode);
    if (!row) continue;
    let name: string;
    let value: number | undefined;
    let text: string;
    if (goal.measure === "ratio") {
      name = `ratio ${row.label} ${goal.mode} vs etcd`;
      value = ratio(rows, row);
      text = value === undefined ? "n/a" : fmtRatio(value);
    } else if (goal.measure === "p99") {
      name = `${row.label} ${goal.mode} p99 ms`;
      value = row.result.p99Ms;
      text = value.toFixed(2);
    } else {
      name = `${row.label} ${goal.mode} ops/s`;
      value = row.result.opsPerSec;
      text = String(Math.round(value));
    }
    const met =
      value === undefined
        ? undefined
        : goal.measure === "p99"
          ? value < goal.target
          : value >= goal.target;
    out.push({ goal, name, value, met, text });
  }
  return out;
}

function describeTarget(g: Goal): string {
  if (g.measure === "ratio") return `>= ${g.target}x etcd`;
  if (g.measure === "p99") return `p99 < ${g.target} ms`;
  return `>= ${g.target.toLocaleString("en-US")} ops/s`;
}

/** A small table of goal, figure and verdict, above the goal lines. */
export function formatGoalTable(goals: readonly GoalResult[]): string {
  const rows = goals.map((g) => [
    g.name,
    describeTarget(g.goal),
    g.text,
    g.met === undefined ? "no etcd row" : g.met ? "met" : "NOT met",
  ]);
  const header = ["goal", "target", "measured", "verdict"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (c: readonly string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  return [
    line(header),
    `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`,
    ...rows.map(line),
  ].join("\n");
}

export function formatGoalLines(goals: readonly GoalResult[]): string {
  return goals.map((g) => `${g.name}: ${g.text}`).join("\n");
}
