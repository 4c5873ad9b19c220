// Child processes for the binary's tests: output captured, log lines parsed, waits bounded, and
// every process killed after its test (killAll in afterEach).
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

export const MAIN = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
export const LOCAL_CLUSTER = fileURLToPath(
  new URL("../../scripts/local-cluster.mjs", import.meta.url),
);

export function assertBuilt(): void {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: build @d-engine/server first`);
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface Proc {
  readonly child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** stdout's JSON lines (others are skipped). */
  records(): Record<string, unknown>[];
  /** Resolves with the first stdout line (raw text) matching, or rejects after `ms`. */
  waitForLine(match: (line: string) => boolean, ms: number): Promise<string>;
  /** The first JSON log record matching, or rejects after `ms`. */
  waitForRecord(
    match: (r: Record<string, unknown>) => boolean,
    ms: number,
  ): Promise<Record<string, unknown>>;
  /** Resolves when the process exits, or rejects after `ms` (the process is then killed). */
  waitForExit(ms: number): Promise<Exit>;
}

const live = new Set<ChildProcess>();

/** Runs `node script args` in `cwd`, with DENGINE_* variables only from `env`. */
export function start(
  script: string,
  args: readonly string[],
  o: { cwd: string; env?: Record<string, string>; detached?: boolean },
): Proc {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("DENGINE_")),
  );
  const child = spawn(process.execPath, [script, ...args], {
    cwd: o.cwd,
    // No metrics listener unless a test asks: its default port (the node's + 100) is not
    // reserved by freePort(), and a clash would fail a test about something else.
    env: { ...clean, DENGINE_METRICS_LISTEN: "off", ...o.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: o.detached ?? false,
  });
  live.add(child);
  let out = "";
  let err = "";
  const lineWaiters = new Set<() => void>();
  child.stdout!.on("data", (d) => {
    out += d;
    for (const w of lineWaiters) w();
  });
  child.stderr!.on("data", (d) => {
    err += d;
  });
  const exited = new Promise<Exit>((resolve) => {
    child.on("close", (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
      for (const w of lineWaiters) w();
    });
  });
  const lines = () => out.split("\n").filter((l) => l !== "");
  const waitForLine = (match: (line: string) => boolean, ms: number) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const found = lines().find(match);
        if (found !== undefined) {
          done();
          resolve(found);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(
            new Error(`process exited before the line came\nstdout:\n${out}\nstderr:\n${err}`),
          );
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no such line within ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        lineWaiters.delete(check);
      };
      lineWaiters.add(check);
      check();
    });
  const parse = (l: string): Record<string, unknown> | undefined => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      return undefined;
    }
  };
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    records: () =>
      lines()
        .map(parse)
        .filter((r): r is Record<string, unknown> => r !== undefined),
    waitForLine,
    async waitForRecord(match, ms) {
      const line = await waitForLine((l) => {
        const r = parse(l);
        return r !== undefined && match(r);
      }, ms);
      return parse(line)!;
    },
    waitForExit(ms) {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          child.kill("SIGKILL");
          reject(
            new Error(`process did not exit within ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`),
          );
        }, ms);
      });
      return Promise.race([exited, timeout]).finally(() => clearTimeout(timer));
    },
  };
}

/** Kills every process still running (afterEach). Detached ones go with their group. */
export function killAll(): void {
  for (const c of live) {
    try {
      if (c.pid !== undefined) process.kill(-c.pid, "SIGKILL");
    } catch {
      // Not a group leader (not detached): kill the process alone.
    }
    c.kill("SIGKILL");
  }
  live.clear();
}

/** A port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** `count` consecutive ports that were free a moment ago, starting above `from`. */
export async function freePortRange(count: number, from = 21_000): Promise<number> {
  for (let base = from; base < 60_000; base += count + 7) {
    const servers = [];
    let ok = true;
    for (let i = 1; i <= count && ok; i++) {
      const s = createServer();
      ok = await new Promise<boolean>((resolve) => {
        s.once("error", () => resolve(false));
        s.listen(base + i, "127.0.0.1", () => resolve(true));
      });
      if (ok) servers.push(s);
    }
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    if (ok) return base;
  }
  throw new Error("no free port range");
}
