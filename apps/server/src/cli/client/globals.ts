// The options every client command takes, in the habits of etcdctl: where the cluster is, how
// long a call may take, and whether to print JSON. They are accepted before the command
// (`d-engine --endpoints a:1 get k`) and after it (`d-engine get k --endpoints a:1`); after wins.
import { type Command, Option } from "commander";
import { durationMs } from "./parse.js";

export const ENDPOINTS_ENV = "DENGINE_ENDPOINTS";
export const DEFAULT_ENDPOINTS = "127.0.0.1:9081";
export const DEFAULT_TIMEOUT_MS = 5_000;

export interface GlobalOptions {
  readonly endpoints: readonly string[];
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /** Whether --timeout was given (a snapshot download has no deadline unless it was). */
  readonly timeoutGiven: boolean;
  readonly json: boolean;
}

const HEADING = "Connection and output:";

/** Adds the global options to a command (the program, and each client command). */
export function addGlobalOptions(cmd: Command): Command {
  return cmd
    .addOption(
      new Option(
        "--endpoints <list>",
        `comma-separated host:port (or http(s):// URLs) of cluster nodes (env ${ENDPOINTS_ENV}; default ${DEFAULT_ENDPOINTS})`,
      ).helpGroup(HEADING),
    )
    .addOption(
      new Option(
        "--timeout <duration>",
        `deadline of each call, retries included, e.g. 500ms, 5s, 1m (default ${DEFAULT_TIMEOUT_MS / 1000}s)`,
      )
        .argParser(durationMs)
        .helpGroup(HEADING),
    )
    .addOption(new Option("--json", "print JSON instead of tables").helpGroup(HEADING));
}

/**
 * The global options of a command: its own, then its ancestors' (the nearest wins), then the
 * environment, then the defaults.
 */
export function resolveGlobals(
  cmd: Command,
  env: Readonly<Record<string, string | undefined>>,
): GlobalOptions {
  const pick = (name: string): unknown => {
    for (let c: Command | null = cmd; c; c = c.parent) {
      const v = c.getOptionValue(name);
      if (v !== undefined) return v;
    }
    return undefined;
  };
  const list = (pick("endpoints") as string | undefined) ?? nonEmpty(env[ENDPOINTS_ENV]);
  const endpoints = (list ?? DEFAULT_ENDPOINTS)
    .split(",")
    .map((e) => e.trim())
    .filter((e) => e !== "");
  const timeout = pick("timeout") as number | undefined;
  return {
    endpoints,
    timeoutMs: timeout ?? DEFAULT_TIMEOUT_MS,
    timeoutGiven: timeout !== undefined,
    json: pick("json") === true,
  };
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === "" ? undefined : s;
}
