// The `d-engine` command line. Subcommands live in this folder; `start` runs a server node. Its
// options are generated from the settings list, so every setting has a flag (and its help names
// the environment variable too). Flag values are not checked here: the configuration loader
// validates them with the other sources and names the flag in its errors.
import { Command } from "commander";
// settings.js, not index.js: the client commands start faster without the config loader.
import { CONFIG_ENV, CONFIG_FLAG, SETTINGS, type Setting } from "../config/settings.js";
import { type ClientCliEnv, registerClientCommands } from "./commands/index.js";

export interface StartRequest {
  /** --config, if given. */
  readonly configFile: string | undefined;
  /** The setting flags given, keyed by commander's attribute names (flagAttribute). */
  readonly flags: Readonly<Record<string, unknown>>;
}

export interface CliHandlers {
  start(request: StartRequest): Promise<void>;
  /** The client commands (put, get, status, ...) run in this environment; absent: not offered. */
  client?: ClientCliEnv;
}

const ARG: Record<Setting["kind"], string> = {
  int: "<n>",
  string: "<text>",
  bool: "",
  address: "<host:port>",
  members: "<id=host:port,...>",
  enum: "<value>",
  list: "<a,b,...>",
};

export function createProgram(handlers: CliHandlers, version: string): Command {
  const program = new Command("d-engine")
    .description("d-engine: a Raft-replicated, strongly consistent key-value store")
    .version(version, "-V, --version", "print the version")
    .helpOption("-h, --help", "show help")
    .showHelpAfterError("(d-engine --help lists the commands, d-engine start --help the options)")
    .allowExcessArguments(false);

  const start = program
    .command("start")
    .description(
      "run a server node (settings: defaults < config file < DENGINE_* environment < flags)",
    )
    .option(
      `${CONFIG_FLAG} <file>`,
      `a TOML (.toml) or YAML (.yaml, .yml) config file (env ${CONFIG_ENV})`,
    );
  for (const s of SETTINGS) addSettingOption(start, s);
  start.action(async (opts: Record<string, unknown>) => {
    const { config, ...flags } = opts;
    await handlers.start({
      configFile: typeof config === "string" ? config : undefined,
      flags,
    });
  });
  if (handlers.client) registerClientCommands(program, handlers.client);
  return program;
}

function addSettingOption(cmd: Command, s: Setting): void {
  const choices = s.choices ? `: ${s.choices.join(", ")}` : "";
  const help = `${s.description}${choices} (env ${s.env})`;
  if (s.kind === "bool") {
    cmd.option(s.flag, `${help}`);
    cmd.option(`--no-${s.flag.slice(2)}`, `the opposite of ${s.flag}`);
  } else {
    const arg = s.arg ?? ARG[s.kind];
    cmd.option(`${s.flag} ${arg}`, help);
  }
}
