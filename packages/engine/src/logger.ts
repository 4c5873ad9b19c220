// How the engine reports what it does. Structured: a message and optional fields, so a server can
// hand it to pino (logger.info(fields, msg)) and a test can stay silent.
import type { Logger as CoreLogger } from "@d-engine/core";

export interface EngineLogger {
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export const SILENT_ENGINE_LOGGER: EngineLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Lines on stderr at or above `level` (for quick experiments; servers pass their own). */
export function consoleLogger(level: "debug" | "info" | "warn" | "error" = "info"): EngineLogger {
  const order = ["debug", "info", "warn", "error"] as const;
  const min = order.indexOf(level);
  const line =
    (lvl: (typeof order)[number]) =>
    (msg: string, fields?: Readonly<Record<string, unknown>>): void => {
      if (order.indexOf(lvl) < min) return;
      const extra = fields && Object.keys(fields).length > 0 ? ` ${JSON.stringify(fields)}` : "";
      process.stderr.write(`${new Date().toISOString()} ${lvl} ${msg}${extra}\n`);
    };
  return { debug: line("debug"), info: line("info"), warn: line("warn"), error: line("error") };
}

/** The core's and the storage's logger (plain messages) on top of the engine's. */
export function coreLogger(l: EngineLogger): CoreLogger {
  return {
    debug: (msg) => l.debug(msg),
    info: (msg) => l.info(msg),
    warn: (msg) => l.warn(msg),
  };
}
