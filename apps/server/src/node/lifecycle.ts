// A server process's life: start the node, say once where it serves, wait for SIGTERM or SIGINT,
// then shut down gracefully (the node fails or finishes its calls, hands leadership over, flushes,
// closes) and report the exit code. A second signal during shutdown exits at once.
import { constants } from "node:os";
import type { ServerConfig } from "../config/index.js";
import type { Logger } from "../log/logger.js";
import type { RunningNode, StartNode } from "./start-node.js";

export type ShutdownSignal = "SIGTERM" | "SIGINT";

export interface SignalSource {
  on(signal: ShutdownSignal, listener: (signal: ShutdownSignal) => void): unknown;
  off(signal: ShutdownSignal, listener: (signal: ShutdownSignal) => void): unknown;
}

export interface LifecycleDeps {
  readonly startNode: StartNode;
  /** Usually `process`. */
  readonly signals: SignalSource;
  /** Ends the process now (the second signal); usually process.exit. */
  readonly exit: (code: number) => void;
}

/** How long shutdown may take before the process gives up and exits non-zero. */
export const SHUTDOWN_GRACE_MS = 10_000;

/** Runs the node until a signal stops it; resolves with the process's exit code. */
export async function runServer(
  config: ServerConfig,
  logger: Logger,
  deps: LifecycleDeps,
): Promise<number> {
  const electionTimeoutMs = config.raft.electionTicks * config.raft.tickMs;
  let signalled: ShutdownSignal | undefined;
  let wake: () => void = () => {};
  const stopRequested = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (signal: ShutdownSignal) => {
    if (signalled === undefined) {
      signalled = signal;
      logger.info({ signal }, `${signal}: shutting down`);
      wake();
      return;
    }
    // The data is safe either way (acknowledged writes are fsynced); this only skips the
    // leadership handover and the orderly close.
    logger.warn({ signal }, `${signal} again: exiting without finishing the shutdown`);
    logger.flush();
    deps.exit(128 + constants.signals[signal]);
  };
  deps.signals.on("SIGTERM", onSignal);
  deps.signals.on("SIGINT", onSignal);

  try {
    let node: RunningNode;
    try {
      node = await deps.startNode(config, logger);
    } catch (e) {
      logger.error({ error: errorFields(e) }, `failed to start: ${errorMessage(e)}`);
      return 1;
    }

    if (signalled === undefined) {
      await announce(config, logger, node, stopRequested, 3 * electionTimeoutMs);
      await stopRequested;
    }

    const transferTimeoutMs = 2 * electionTimeoutMs;
    try {
      await withDeadline(
        node.stop({ transferTimeoutMs }),
        transferTimeoutMs + SHUTDOWN_GRACE_MS,
        "shutdown",
      );
    } catch (e) {
      logger.error({ error: errorFields(e) }, `shutdown failed: ${errorMessage(e)}`);
      return 1;
    }
    logger.info("stopped");
    return 0;
  } finally {
    // Stays installed through shutdown so that a second signal forces the exit.
    deps.signals.off("SIGTERM", onSignal);
    deps.signals.off("SIGINT", onSignal);
    logger.flush();
  }
}

/**
 * The one line that says the node serves: address, node id, data dir and the leader, once known
 * (waiting at most `waitMs` for an election, or until a signal asks to stop).
 */
async function announce(
  config: ServerConfig,
  logger: Logger,
  node: RunningNode,
  stopRequested: Promise<void>,
  waitMs: number,
): Promise<void> {
  let leaderId = node.leaderId();
  if (leaderId === 0 && !config.cluster.join) {
    const elected = node.waitForLeader(waitMs).then(
      (id) => id,
      () => 0,
    );
    leaderId = await Promise.race([elected, stopRequested.then(() => node.leaderId())]);
  }
  const leader = leaderId > 0 ? `leader ${leaderId}` : "no leader yet";
  logger.info(
    {
      event: "serving",
      address: config.node.advertise,
      listen: node.listenAddress,
      dataDir: config.node.dataDir,
      leaderId,
      ...(node.metricsAddress ? { metrics: node.metricsAddress } : {}),
    },
    `serving on ${config.node.advertise} as node ${config.node.id} of cluster ${config.node.clusterId} (data ${config.node.dataDir}, ${leader})`,
  );
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}

function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function errorFields(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { message: String(e) };
  const code = (e as NodeJS.ErrnoException).code;
  return { type: e.name, message: e.message, ...(code ? { code } : {}) };
}
