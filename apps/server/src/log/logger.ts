// JSON logs (pino) on stdout, one object per line, every line tagged with the node and cluster.
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level: string;
  readonly nodeId: number;
  readonly clusterId: string;
  /** Default: stdout, written synchronously so nothing is lost when the process exits. */
  readonly destination?: DestinationStream;
}

export function createLogger(o: LoggerOptions): Logger {
  return pino(
    {
      level: o.level,
      base: { nodeId: o.nodeId, clusterId: o.clusterId },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    o.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

/** The engine's logger interface (message first, then fields) on top of pino (fields first). */
export interface EngineLoggerShape {
  debug(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  info(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  warn(msg: string, fields?: Readonly<Record<string, unknown>>): void;
  error(msg: string, fields?: Readonly<Record<string, unknown>>): void;
}

export function engineLogger(logger: Logger): EngineLoggerShape {
  const child = logger.child({ component: "engine" });
  return {
    debug: (msg, fields) => child.debug(fields ?? {}, msg),
    info: (msg, fields) => child.info(fields ?? {}, msg),
    warn: (msg, fields) => child.warn(fields ?? {}, msg),
    error: (msg, fields) => child.error(fields ?? {}, msg),
  };
}
