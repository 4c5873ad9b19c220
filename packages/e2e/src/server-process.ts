// One `d-engine start` child process: spawned from the built server, its output kept for the
// failure message, stopped with SIGTERM (graceful) or SIGKILL (a crash).
import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const require = createRequire(import.meta.url);

/** The built server's entry point (apps/server/dist/main.js). */
export function serverMain(): string {
  return join(dirname(require.resolve("@d-engine/server/package.json")), "dist", "main.js");
}

export class ServerProcess {
  private child: ChildProcess | undefined;
  private output = "";
  private exit: Promise<number | null> = Promise.resolve(null);

  constructor(
    readonly name: string,
    private readonly args: readonly string[],
    private readonly env: NodeJS.ProcessEnv = {},
  ) {}

  get running(): boolean {
    return (
      this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
    );
  }

  /** The process id while running. */
  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  /** The process's stdout and stderr so far (for failure messages). */
  get log(): string {
    return this.output;
  }

  start(): void {
    if (this.running) throw new Error(`${this.name} is already running`);
    const child = spawn(process.execPath, [serverMain(), ...this.args], {
      env: { ...process.env, ...this.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const keep = (b: Buffer) => {
      this.output += b.toString();
      // Keep the tail only: a long test writes a lot of logs.
      if (this.output.length > 200_000) this.output = this.output.slice(-100_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.exit = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
    this.child = child;
  }

  /** SIGKILL: no shutdown, no flush. Resolves once the process is gone. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill("SIGKILL");
    await this.exit;
  }

  /** SIGTERM; resolves with the exit code once the process exits. */
  async stop(): Promise<number | null> {
    if (!this.running) return this.child?.exitCode ?? null;
    this.child?.kill("SIGTERM");
    return this.exit;
  }

  /** Resolves with the exit code when the process exits by itself. */
  exited(): Promise<number | null> {
    return this.exit;
  }
}
