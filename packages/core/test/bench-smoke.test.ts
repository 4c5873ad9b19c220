// Checks that the compiled benchmark runs and reports its figure, not how fast it is: timings
// depend on the machine, and a test must not fail because CI is busy.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const bench = join(import.meta.dirname, "..", "dist-bench", "cluster-bench.js");

describe("cluster benchmark (smoke)", () => {
  it("is built (the package's build compiles bench/ to dist-bench/)", () => {
    expect(existsSync(bench)).toBe(true);
  });

  it("runs a small benchmark to completion and prints the median line", () => {
    const res = spawnSync(process.execPath, [bench, "--entries", "20000", "--runs", "1"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(res.error).toBeUndefined();
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
    const lines = res.stdout.trim().split("\n");
    // One table row for the single run: run number, entries, seconds, entries/s, heap MB.
    expect(lines.some((l) => /^1\t20000\t\d+\.\d+\t\d+\t\d+\.\d$/.test(l))).toBe(true);
    expect(lines.at(-1)).toMatch(/^core committed entries\/s: \d+$/);
  }, 70_000);

  it("rejects a malformed flag instead of running with a default", () => {
    const res = spawnSync(process.execPath, [bench, "--entries", "lots"], {
      encoding: "utf8",
      timeout: 30_000,
    });
    expect(res.status).not.toBe(0);
    expect(res.stderr).toContain("--entries needs a positive integer");
  }, 40_000);
});
