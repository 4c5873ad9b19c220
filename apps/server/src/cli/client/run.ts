// Running a client command: its options and output, the client it talks through, and its exit
// code. 0: done; 1: the operation failed (the error's message and code are printed on stderr);
// 2: bad usage (commander's message, or a UsageError naming what is wrong). The client is
// connected on first use and closed when the command ends, whatever happened.
import { type DEngineClient, isDEngineError } from "@d-engine/client";
import { type Command, CommanderError } from "commander";
import type { ClientCliEnv } from "./env.js";
import { addGlobalOptions, type GlobalOptions, resolveGlobals } from "./globals.js";

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

/** The arguments do not make sense together (exit code 2). */
export class UsageError extends Error {}

/** The operation failed outside the client library (a file, an unreachable node): exit code 1. */
export class OperationError extends Error {
  constructor(
    message: string,
    /** What stderr names as the error's code. */
    readonly code = "failed",
  ) {
    super(message);
  }
}

export interface CommandContext {
  readonly globals: GlobalOptions;
  readonly cli: ClientCliEnv;
  /** The client, connected on first use and closed when the command ends. */
  client(): DEngineClient;
  /** Writes text to stdout. */
  out(text: string | Uint8Array): void;
  /** Writes a value to stdout as pretty JSON (one document). */
  json(value: unknown): void;
  /** Writes a value to stdout as one line of JSON (streams: one line per event). */
  jsonLine(value: unknown): void;
}

export type CommandBody = (
  ctx: CommandContext,
  args: readonly unknown[],
  opts: Readonly<Record<string, unknown>>,
) => Promise<number | undefined>;

/** For the commands that run until stopped: an event as one JSON line, or as a line of text. */
export function emit(ctx: CommandContext, value: Record<string, unknown>, line: string): void {
  if (ctx.globals.json) ctx.jsonLine(value);
  else ctx.out(`${line}\n`);
}

/**
 * Holds the process open until `done` settles: the client's timers and streams may not (they
 * are unreferenced so that applications can exit), and these commands exist to wait.
 */
export async function holdOpen<T>(done: Promise<T>): Promise<T> {
  const hold = setInterval(() => undefined, 60_000);
  try {
    return await done;
  } finally {
    clearInterval(hold);
  }
}

/**
 * Runs a wait that Ctrl-C may cut short; if it does, fails with an OperationError that says
 * what was not obtained (whatever the library threw on abort).
 */
export async function unlessInterrupted<T>(
  stop: AbortSignal,
  what: string,
  wait: () => Promise<T>,
): Promise<T> {
  try {
    return await wait();
  } catch (e) {
    if (stop.aborted) throw new OperationError(`interrupted before ${what}`, "interrupted");
    throw e;
  }
}

/** Resolves when the signal aborts. */
export function aborted(signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener("abort", () => resolve(), { once: true });
  });
}

/** "d-engine member add" for "add" under "member". */
export function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(" ");
}

/** Creates the client commands over one environment. */
export class ClientCommands {
  constructor(readonly cli: ClientCliEnv) {}

  /** A command that talks to the cluster (give it an action): usage errors exit 2, output to env. */
  command(parent: Command, nameAndArgs: string, description: string): Command {
    return this.configure(parent.command(nameAndArgs).description(description));
  }

  /** A group of commands (member, snapshot, ...): only subcommands. */
  group(parent: Command, name: string, description: string): Command {
    return this.configure(parent.command(name).description(description));
  }

  private configure(cmd: Command): Command {
    const cli = this.cli;
    return cmd
      .helpOption("-h, --help", "show help")
      .allowExcessArguments(false)
      .showHelpAfterError(`(${commandPath(cmd)} --help shows the usage)`)
      .configureOutput({
        writeOut: (s) => cli.stdout.write(s),
        writeErr: (s) => cli.stderr.write(s),
      })
      .exitOverride((err: CommanderError) => {
        // Help and version exit 0; every refusal of the arguments is bad usage.
        cli.exit(err.exitCode === 0 ? EXIT_OK : EXIT_USAGE);
        throw err;
      });
  }

  /** Sets the command's action: runs body and exits with its code (0 when it returns none). */
  action(cmd: Command, body: CommandBody): Command {
    // Added last, so that help lists the command's own options first.
    addGlobalOptions(cmd);
    return cmd.action(async () => {
      this.cli.exit(await this.run(cmd, body));
    });
  }

  private async run(cmd: Command, body: CommandBody): Promise<number> {
    const cli = this.cli;
    const name = commandPath(cmd);
    let globals: GlobalOptions | undefined;
    let client: DEngineClient | undefined;
    try {
      globals = resolveGlobals(cmd, cli.env);
      if (globals.endpoints.length === 0) throw new UsageError("--endpoints lists no address");
      const g = globals;
      const ctx: CommandContext = {
        globals: g,
        cli,
        client: () => {
          client ??= cli.connect({ endpoints: g.endpoints, timeoutMs: g.timeoutMs });
          return client;
        },
        out: (text) => cli.stdout.write(text),
        json: (v) => cli.stdout.write(`${JSON.stringify(v, null, 2)}\n`),
        jsonLine: (v) => cli.stdout.write(`${JSON.stringify(v)}\n`),
      };
      return (await body(ctx, cmd.processedArgs, cmd.opts())) ?? EXIT_OK;
    } catch (e) {
      return reportError(cli, name, e, globals?.json ?? false);
    } finally {
      await client?.close().catch(() => undefined);
    }
  }
}

/** Prints what went wrong on stderr (JSON with --json) and returns the exit code. */
export function reportError(cli: ClientCliEnv, name: string, e: unknown, json: boolean): number {
  if (e instanceof CommanderError) throw e;
  const usage = e instanceof UsageError;
  const code = usage ? "usage" : isDEngineError(e) ? e.code : errorCode(e);
  const message = e instanceof Error ? e.message : String(e);
  const unknown = isDEngineError(e) && e.outcomeUnknown;
  if (json) {
    const error = { code, message, ...(unknown ? { outcomeUnknown: true } : {}) };
    cli.stderr.write(`${JSON.stringify({ error })}\n`);
  } else {
    const note = unknown
      ? "; the outcome is unknown: the write may or may not have been applied"
      : "";
    const hint = usage ? `\n(${name} --help shows the usage)` : "";
    cli.stderr.write(`${name}: ${message} (${code}${note})${hint}\n`);
  }
  return usage ? EXIT_USAGE : EXIT_FAILED;
}

/** A Node system error's code (ENOENT, ...) or "error". */
function errorCode(e: unknown): string {
  const c = (e as { code?: unknown } | undefined)?.code;
  return typeof c === "string" ? c : "error";
}
