// The table: one row per scenario and mode, d-engine's ratio to etcd beside it.
import { etcdCounterpart, type Row, ratio } from "./results.js";

const MiB = 2 ** 20;

export function fmtNumber(x: number, digits: number): string {
  return x.toLocaleString("en-US", {
    maximumFractionDigits: digits,
    minimumFractionDigits: digits,
  });
}

function ms(x: number): string {
  return x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0);
}

/** CPU ms per operation: three significant digits are plenty (the clock counts 10 ms steps). */
export function cpuPerOp(x: number): string {
  if (!Number.isFinite(x)) return "?";
  return x >= 1 ? x.toFixed(2) : x >= 0.01 ? x.toFixed(3) : x.toFixed(4);
}

export function formatTable(rows: readonly Row[]): string {
  const header = [
    "scenario",
    "mode",
    "ops",
    "clients/conns",
    "ops/s",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "errors",
    "peak RSS MiB (serving/others)",
    "CPU ms/op (serving/others)",
    "vs etcd",
  ];
  const body = rows.map((r) => {
    const x = ratio(rows, r);
    const vs =
      x === undefined
        ? r.mode === "etcd"
          ? ""
          : "n/a"
        : `${x.toFixed(2)}x${r.scenario === "lease-read" && etcdCounterpart(rows, r.scenario) ? " (serializable)" : ""}`;
    return [
      r.label,
      r.mode,
      String(r.result.ops),
      `${r.result.clients}/${r.result.connections}`,
      fmtNumber(r.result.opsPerSec, 0),
      ms(r.result.p50Ms),
      ms(r.result.p99Ms),
      ms(r.result.p999Ms),
      String(r.result.errors),
      r.peakRss.map((b) => Math.round(b / MiB)).join("/"),
      r.cpuMsPerOp.map(cpuPerOp).join("/"),
      vs,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => (b[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(" | ")} |`;
  const rule = `|${widths.map((w, i) => (i < 2 ? `:${"-".repeat(w + 1)}` : `${"-".repeat(w + 1)}:`)).join("|")}|`;
  return [line(header), rule, ...body.map(line)].join("\n");
}
