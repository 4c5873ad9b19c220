// The benchmark's smoke test (issue 7): the real `npm run bench` entry point, d-engine side only,
// every scenario in both modes at tiny counts. It checks that the benchmark works (every row and
// goal line printed, with positive figures and no failed operation), never how fast it is.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { SCENARIO_NAMES, scenario } from "../src/scenarios.js";

const require = createRequire(import.meta.url);
const main = join(dirname(require.resolve("@d-engine/bench/package.json")), "dist", "main.js");

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runBench(args: readonly string[], timeoutMs: number): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [main, ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
    });
    // SIGTERM lets the benchmark stop its clusters; the test fails on the timeout below anyway.
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** The table's data rows as cells, by "scenario mode". */
function tableRows(stdout: string): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of stdout.split("\n")) {
    if (!line.startsWith("| ")) continue;
    const cells = line
      .split("|")
      .slice(1, -1)
      .map((c) => c.trim());
    if (cells[1] === "embedded" || cells[1] === "standalone" || cells[1] === "etcd") {
      rows.set(`${cells[0]} ${cells[1]}`, cells);
    }
  }
  return rows;
}

describe("npm run bench (smoke: d-engine only, tiny counts)", () => {
  it("prints the machine, a row per scenario and mode, and every goal line", async () => {
    const scale = 0.002; // 20 single-client writes, 200 operations in every other scenario
    const run = await runBench(
      ["--no-etcd", "--ops", String(scale), "--connections", "4"],
      140_000,
    );
    const why = `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr.slice(-4000)}`;
    expect(run.code, why).toBe(0);
    expect(run.stdout).toMatch(/^machine: \d+ cores, .+ GiB RAM/m);
    expect(run.stdout).toMatch(/^node v\d+/m);
    expect(run.stdout).toMatch(
      /^disk: \d+-byte durable \(O_DSYNC\) appends in .+ 3 writers at once/m,
    );
    expect(run.stdout).toMatch(
      /^floor: a replicated durable write .+: [\d,]+ writes\/s, p50 [\d.]+ ms/m,
    );

    const rows = tableRows(run.stdout);
    let servingCpuMs = 0;
    for (const mode of ["embedded", "standalone"]) {
      for (const name of SCENARIO_NAMES) {
        const s = scenario(name, scale);
        const cells = rows.get(`${s.label} ${mode}`);
        expect(cells, `row ${s.label} ${mode}\n${why}`).toBeDefined();
        const [, , ops, , opsPerSec, p50, p99, p999, errors, rss, cpu, vs] = cells ?? [];
        expect(Number(ops)).toBe(s.spec.ops);
        expect(Number(opsPerSec?.replaceAll(",", ""))).toBeGreaterThan(0);
        for (const ms of [p50, p99, p999]) expect(Number(ms)).toBeGreaterThan(0);
        expect(Number(errors)).toBe(0);
        // Three server processes, each with a positive peak RSS.
        const mib = (rss ?? "").split("/").map(Number);
        expect(mib).toHaveLength(3);
        for (const m of mib) expect(m).toBeGreaterThan(0);
        // CPU per operation of the same three processes (the clock counts 10 ms steps: a short
        // run may read 0, but not every run of the serving process can).
        const cpuMs = (cpu ?? "").split("/").map(Number);
        expect(cpuMs, `row ${s.label} ${mode}: CPU ${cpu}`).toHaveLength(3);
        for (const c of cpuMs) expect(c).toBeGreaterThanOrEqual(0);
        servingCpuMs += (cpuMs[0] ?? 0) * s.spec.ops;
        expect(vs).toBe("n/a");
      }
    }
    expect(servingCpuMs).toBeGreaterThan(0);
    expect([...rows.keys()].some((k) => k.endsWith(" etcd"))).toBe(false);

    // One line per goal of issue 7, the figure last; ratios need etcd, so they say n/a here.
    const goal = (name: string) => new RegExp(`^${name}: (\\S+)$`, "m").exec(run.stdout)?.[1];
    expect(Number(goal("single-client write embedded p99 ms"))).toBeGreaterThan(0);
    expect(Number(goal("lease read embedded ops/s"))).toBeGreaterThan(0);
    expect(Number(goal("eventual read embedded ops/s"))).toBeGreaterThan(0);
    for (const name of [
      "ratio single-client write embedded vs etcd",
      "ratio single-client write standalone vs etcd",
      "ratio high-concurrency write embedded vs etcd",
      "ratio high-concurrency write standalone vs etcd",
      "ratio linearizable read embedded vs etcd",
      "ratio linearizable read standalone vs etcd",
      "ratio lease read standalone vs etcd",
      "ratio eventual read standalone vs etcd",
    ]) {
      expect(goal(name), name).toBe("n/a");
    }
  });
});
