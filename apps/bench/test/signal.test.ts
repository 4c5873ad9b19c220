// Stopping the benchmark mid-run (Ctrl-C, a CI timeout) must leave no cluster behind: its node
// processes gone and its data directory removed.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { expect, it } from "vitest";

const require = createRequire(import.meta.url);
const main = join(dirname(require.resolve("@d-engine/bench/package.json")), "dist", "main.js");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

it("SIGTERM during a scenario stops the cluster's processes and removes its data", async () => {
  // 100,000 writes: far longer than this test waits, so the signal lands mid-scenario.
  const child = spawn(
    process.execPath,
    [main, "--no-etcd", "--modes", "embedded", "--scenarios", "high-concurrency-write"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  const exited = new Promise<number | null>((resolve) => child.once("exit", (c) => resolve(c)));
  const started = new Promise<RegExpExecArray>((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`no scenario started:\n${stderr}`)), 60_000);
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
      const m =
        /embedded: started: pids ([\d, ]+); data in (\S+)\n[\s\S]*high-concurrency write: \d+ ops/.exec(
          stderr,
        );
      if (m) {
        clearTimeout(deadline);
        resolve(m);
      }
    });
    child.once("exit", () => reject(new Error(`the benchmark exited early:\n${stderr}`)));
  });
  try {
    const m = await started;
    const pids = (m[1] ?? "").split(", ").map(Number);
    const dataDir = m[2] ?? "";
    expect(pids).toHaveLength(3);
    expect(pids.every(alive)).toBe(true);
    expect(existsSync(dataDir)).toBe(true);

    child.kill("SIGTERM");
    const bounded = await Promise.race([
      exited.then(() => "exited"),
      new Promise((resolve) => setTimeout(() => resolve("still running"), 40_000)),
    ]);
    expect(bounded, stderr).toBe("exited");
    expect(stderr).toContain("SIGTERM: stopping the clusters");
    expect(pids.filter(alive), "node processes left behind").toEqual([]);
    expect(existsSync(dataDir), "data directory left behind").toBe(false);
  } finally {
    child.kill("SIGKILL");
  }
});
