// The compiled demo as a user runs it: a real process on real timers. It waits on the process
// (its exit, or a line in its output), never on a sleep, and every wait is bounded.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const main = join(import.meta.dirname, "..", "dist", "main.js");
// Seed 2 elects its first leader at tick 10 (1 s; events.test.ts checks it), which leaves room
// for a commit well inside a 2 s run.
const SEED = "2";
const BOUND_MS = 15_000;

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Collects a child's output until it exits; kills it (and fails) if it outlives `BOUND_MS`. */
function finished(child: ChildProcess): Promise<Exit> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (s: string) => {
    stdout += s;
  });
  child.stderr?.setEncoding("utf8").on("data", (s: string) => {
    stderr += s;
  });
  return new Promise((resolve, reject) => {
    const guard = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`demo did not exit within ${BOUND_MS} ms; output so far:\n${stdout}`));
    }, BOUND_MS);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Resolves once the child has printed a line matching `re`; rejects if it exits first. */
function printed(child: ChildProcess, re: RegExp): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = "";
    child.stdout?.on("data", (s: string | Buffer) => {
      out += s.toString();
      if (re.test(out)) resolve();
    });
    child.on("close", () => reject(new Error(`demo exited before printing ${re}:\n${out}`)));
  });
}

describe("demo process", () => {
  it("is built", () => {
    expect(existsSync(main)).toBe(true);
  });

  it(
    "runs for --duration 2, printing an election and a commit, and exits 0 with a summary",
    async () => {
      const child = spawn(process.execPath, [main, "--duration", "2", "--seed", SEED]);
      const res = await finished(child);
      expect(res.stderr).toBe("");
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} election {2}node \d became leader at term \d+$/m,
      );
      expect(res.stdout).toMatch(
        /^\d\d:\d\d:\d\d\.\d{3} commit {4}entry \d+ \(term \d+\) "set counter=1" committed, applied on all 3 nodes$/m,
      );
      const last = res.stdout.trimEnd().split("\n").at(-1);
      expect(last).toMatch(/ stopped: [1-9]\d* entr(y|ies) committed, 1 election, 0 failovers in /);
    },
    BOUND_MS + 5_000,
  );

  it(
    "stops cleanly on SIGINT (Ctrl-C) with exit code 0",
    async () => {
      const child = spawn(process.execPath, [main, "--seed", SEED]);
      const done = finished(child);
      await printed(child, / commit {4}entry /);
      child.kill("SIGINT");
      const res = await done;
      expect(res.signal).toBeNull();
      expect(res.code).toBe(0);
      expect(res.stderr).toBe("");
      expect(res.stdout.trimEnd().split("\n").at(-1)).toMatch(
        / stopped: \d+ entr(y|ies) committed/,
      );
    },
    BOUND_MS + 5_000,
  );

  it("refuses a bad flag with a usage message and exit code 2", async () => {
    const res = await finished(spawn(process.execPath, [main, "--duration", "soon"]));
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("--duration needs a number of seconds > 0");
  });
});
