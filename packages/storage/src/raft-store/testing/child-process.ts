// What the crash tests (raft-store/crash.test.ts, kv/crash.test.ts) share: building the package
// when the child script in dist/ is older than its sources (the child runs as plain node, not
// through vitest), and running a child until the test decides to SIGKILL it.
import { execFileSync, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";

/** The package's directory (the same from src/ under vitest and from dist/). */
export const PACKAGE_DIR = fileURLToPath(new URL("../../..", import.meta.url));

/** Newest modification time of the non-test sources under `dir`. */
function newestSource(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) t = Math.max(t, newestSource(p));
    else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
      t = Math.max(t, statSync(p).mtimeMs);
  }
  return t;
}

/** Moves every file under `from` to the same place under `to`, each by one atomic rename. */
function moveTree(from: string, to: string): void {
  for (const e of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, e.name);
    const dst = join(to, e.name);
    if (e.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      moveTree(src, dst);
    } else renameSync(src, dst);
  }
}

/**
 * Builds the package if `script` (a path under dist/, relative to the package) is missing or
 * older than the sources under `sourceDirs` (relative to the package); returns its absolute path.
 * tsc emits into a private directory whose files are then renamed into dist/ one by one: test
 * files running in parallel may build at the same time, and a child must never load a file
 * another build is halfway through writing.
 */
export function ensureBuilt(script: string, sourceDirs: readonly string[]): string {
  const path = join(PACKAGE_DIR, script);
  const fresh = (): boolean =>
    existsSync(path) &&
    statSync(path).mtimeMs >=
      Math.max(...sourceDirs.map((d) => newestSource(join(PACKAGE_DIR, d))));
  if (fresh()) return path;
  const dist = join(PACKAGE_DIR, "dist");
  mkdirSync(dist, { recursive: true });
  // A sibling of dist/ (same depth, same file system): source map paths stay right, and the
  // renames are atomic.
  const out = mkdtempSync(join(PACKAGE_DIR, ".dist-build-"));
  let output = "";
  try {
    execFileSync(
      join(PACKAGE_DIR, "node_modules/.bin/tsc"),
      ["-p", "tsconfig.build.json", "--outDir", out],
      { cwd: PACKAGE_DIR, encoding: "utf8" },
    );
  } catch (e) {
    // tsc still emits when some other part of the package fails to type-check; what matters
    // here is that the child and what it imports were emitted.
    output = String((e as { stdout?: string }).stdout ?? e);
  }
  try {
    moveTree(out, dist);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  if (!fresh()) throw new Error(`could not build ${path}:\n${output}`);
  return path;
}

/**
 * Runs `node script ...args` and passes each stdout line to `onLine` (until the child is gone);
 * the first time it returns true the child is killed with SIGKILL. Resolves once the killed child is gone. Rejects if the
 * child exits by itself, or is still running `deadlineMs` after the start (a stuck child fails
 * the test instead of hanging it).
 */
export function runUntilKilled(
  script: string,
  args: readonly string[],
  onLine: (line: string) => boolean,
  deadlineMs: number,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let lastLine = "(none)";
    let killed = false;
    const deadline = setTimeout(() => {
      child.kill("SIGKILL");
      reject(
        new Error(
          `${script} ${args.join(" ")} not killed within ${deadlineMs} ms; last line: ${lastLine}; stderr: ${stderr}`,
        ),
      );
    }, deadlineMs);
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    createInterface({ input: child.stdout }).on("line", (line) => {
      lastLine = line;
      // Lines printed after the kill was sent still count: they describe writes that may
      // have reached the disk before the signal landed.
      if (onLine(line) && !killed) {
        killed = true;
        child.kill("SIGKILL");
      }
    });
    child.on("close", (code, signal) => {
      clearTimeout(deadline);
      if (signal === "SIGKILL" && killed) resolve();
      else
        reject(
          new Error(
            `${script} exited by itself (code ${code}, signal ${signal}); last line: ${lastLine}; stderr: ${stderr}`,
          ),
        );
    });
  });
}
