// `d-engine` client commands (put, get, watch, lock, ...) as child processes of the built server
// binary: their exit code, stdout and stderr. Bounded: a command that does not exit in time is
// killed and the wait fails; a long-running one (watch, lock, elect) is stopped with SIGINT, as
// Ctrl-C would.
import { type ChildProcess, spawn } from "node:child_process";
import { serverMain } from "./server-process.js";

export interface CliRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface CliRunOptions {
  /** Written to the command's stdin, then closed (default: no stdin). */
  readonly stdin?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs?: number;
}

/** A running client command. */
export class CliProcess {
  private out = "";
  private err = "";
  private readonly child: ChildProcess;
  private readonly closed: Promise<number | null>;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly args: readonly string[],
    opts: CliRunOptions = {},
  ) {
    this.child = spawn(process.execPath, [serverMain(), ...args], {
      // Only the variables given: a DENGINE_ENDPOINTS of the machine must not leak in.
      env: { PATH: process.env.PATH, ...opts.env },
      stdio: [opts.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    this.child.stdout?.on("data", (b: Buffer) => {
      this.out += b.toString();
      for (const l of this.listeners) l();
    });
    this.child.stderr?.on("data", (b: Buffer) => {
      this.err += b.toString();
    });
    if (opts.stdin !== undefined) this.child.stdin?.end(opts.stdin);
    this.closed = new Promise((resolve, reject) => {
      this.child.once("error", reject);
      this.child.once("close", (code) => {
        for (const l of this.listeners) l();
        resolve(code);
      });
    });
  }

  get stdout(): string {
    return this.out;
  }

  /** Resolves with the match once stdout matches; fails if the process ends first or in time. */
  output(match: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.listeners.delete(check);
        reject(new Error(`${this.describe()}: no output matching ${match} in ${timeoutMs} ms`));
      }, timeoutMs);
      const check = () => {
        const m = this.out.match(match);
        const ended = this.child.exitCode !== null || this.child.signalCode !== null;
        if (!m && !ended) return;
        clearTimeout(timer);
        this.listeners.delete(check);
        if (m) resolve(m);
        else reject(new Error(`${this.describe()}: ended before printing ${match}`));
      };
      this.listeners.add(check);
      check();
    });
  }

  /** Ctrl-C. */
  interrupt(): void {
    this.child.kill("SIGINT");
  }

  /** Resolves when the process exits; kills it and fails if that takes longer than timeoutMs. */
  async exited(timeoutMs = 30_000): Promise<CliRun> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        reject(new Error(`${this.describe()}: did not exit within ${timeoutMs} ms`));
      }, timeoutMs);
    });
    try {
      const code = await Promise.race([this.closed, timeout]);
      return { code, stdout: this.out, stderr: this.err };
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL if still running (for afterEach). */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill("SIGKILL");
  }

  private describe(): string {
    return `d-engine ${this.args.join(" ")}\nstdout: ${this.out}\nstderr: ${this.err}`;
  }
}

/** Runs a command to its end. */
export function runCliProcess(args: readonly string[], opts: CliRunOptions = {}): Promise<CliRun> {
  return new CliProcess(args, opts).exited(opts.timeoutMs);
}
