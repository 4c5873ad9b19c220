// What the client commands need from the outside world, injected so that the unit tests run
// them against an in-process engine and capture their output (main.ts passes the real one).
import type { DEngineClient } from "@d-engine/client";

export interface Writer {
  write(s: string | Uint8Array): unknown;
}

export interface ConnectOptions {
  readonly endpoints: readonly string[];
  /** Deadline of each call, retries included. */
  readonly timeoutMs: number;
}

export interface ClientCliEnv {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly stdout: Writer;
  readonly stderr: Writer;
  /** Reads standard input to its end. */
  readStdin(): Promise<Uint8Array>;
  /** Whether standard input is a terminal (then `put` does not wait for a value on it). */
  readonly stdinIsTTY: boolean;
  connect(opts: ConnectOptions): DEngineClient;
  /**
   * Ends the command with this exit code. Called once, when a command finishes or commander
   * refuses the arguments. The real one exits the process; a test's records the code.
   */
  exit(code: number): void;
  /**
   * A signal that fires on Ctrl-C (SIGINT) or SIGTERM, for the commands that run until stopped
   * (watch, lease keep-alive, lock, elect). Asking for it installs the handlers.
   */
  interrupted(): AbortSignal;
}
