// JSON logs (pino) on stdout, one object per line, every line tagged with the node and cluster,
// and, once the node runs, with its current Raft term (a mixin reads it at each line, so the term
// is never stale and children made before the node started carry it too).
import { type DestinationStream, type Logger, pino } from "pino";

export type { Logger } from "pino";

export interface LoggerOptions {
  readonly level: string;
  readonly nodeId: number;
  readonly clusterId: string;
  /** Default: stdout, written synchronously so nothing is lost when the process exits. */
  readonly destination?: DestinationStream;
}

/** Where each logger created here reads the term from (set once the node exists). */
const termSources = new WeakMap<Logger, { read: (() => number) | undefined }>();

export function createLogger(o: LoggerOptions): Logger {
  const source: { read: (() => number) | undefined } = { read: undefined };
  const logger = pino(
    {
      level: o.level,
      base: { nodeId: o.nodeId, clusterId: o.clusterId },
      timestamp: pino.stdTimeFunctions.isoTime,
      mixin: () => (source.read ? { term: source.read() } : {}),
    },
    o.destination ?? pino.destination({ dest: 1, sync: true }),
  );
  termSources.set(logger, source);
  return logger;
}

/**
 * From now on every line of `logger` (made by createLogger) and of its children carries
 * `term: read()`. A logger made elsewhere is left as it is (returns false).
 */
export function logTerm(logger: Logger, read: () => number): boolean {
  const source = termSources.get(logger);
  if (!source) return false;
  source.read = read;
  return true;
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
