// The composition of a server node: the engine's RaftNode with the Connect peer transport, the
// node server that carries peer streams and the client API on one port, and the metrics listener
// (/metrics, /health) on another unless metrics.listen is "off".
import { RaftNode } from "@d-engine/engine";
import {
  createConnectPeerTransport,
  type PeerIdentity,
  startNodeServer,
} from "@d-engine/transport";
import type { ServerConfig } from "../config/index.js";
import { parseHostPort } from "../config/index.js";
import { engineLogger, type Logger, logTerm } from "../log/logger.js";
import { type MetricsServer, startMetricsServer } from "../observability/metrics-server.js";
import { collectProcessMetrics } from "../observability/process-metrics.js";
import { toNodeOptions } from "./node-options.js";

/** A started node, as the lifecycle sees it. */
export interface RunningNode {
  /** The address the server listens on. */
  readonly listenAddress: string;
  /** Where /metrics and /health are served; undefined when metrics.listen is "off". */
  readonly metricsAddress?: string;
  /** The leader's id as this node knows it (0: none known). */
  leaderId(): number;
  /** Resolves with the leader's id once one is known; rejects after `timeoutMs`. */
  waitForLeader(timeoutMs: number): Promise<number>;
  /**
   * Stops the node, then the server. The node goes first: it stops accepting calls, fails what
   * is still pending (Unavailable; writes with outcome unknown), hands leadership over while the
   * server still carries the peer streams the handover needs, and closes its stores; then the
   * server ends the peer streams and closes its connections.
   */
  stop(o: { readonly transferTimeoutMs: number }): Promise<void>;
}

export type StartNode = (config: ServerConfig, logger: Logger) => Promise<RunningNode>;

export const startNode: StartNode = async (config, logger) => {
  const identity: PeerIdentity = {
    clusterId: config.node.clusterId,
    nodeId: config.node.id,
    address: config.node.advertise,
  };
  const transportLogger = logger.child({ component: "transport" });
  const node = await RaftNode.start({
    ...toNodeOptions(config),
    peerTransport: (handler) =>
      createConnectPeerTransport({
        identity,
        onUnreachable: (id) => handler.onUnreachable(id),
        logger: transportLogger,
      }),
    logger: engineLogger(logger),
  });
  logTerm(logger, () => node.term);

  const listen = parseHostPort(config.node.listen)!;
  let server: Awaited<ReturnType<typeof startNodeServer>>;
  try {
    server = await startNodeServer({
      host: listen.host,
      port: listen.port,
      identity,
      peerHandler: node.peerHandler,
      api: node.api,
      limits: config.limits,
      allowedOrigins: config.browsers.allowedOrigins,
      logger: transportLogger,
    });
  } catch (e) {
    // The port is taken or the host is not ours: release the data dir before reporting it.
    await node.stop({ transferLeadership: false }).catch(() => {});
    throw e;
  }

  let metrics: MetricsServer | undefined;
  const metricsListen =
    config.metrics.listen === "off" ? undefined : parseHostPort(config.metrics.listen);
  if (metricsListen) {
    try {
      collectProcessMetrics(node.metrics.registry);
      metrics = await startMetricsServer({
        host: metricsListen.host,
        port: metricsListen.port,
        metrics: node.metrics,
        health: () => {
          const s = node.status();
          return {
            nodeId: s.id,
            clusterId: s.clusterId,
            role: s.role,
            term: s.term,
            leaderId: s.leaderId,
            commitIndex: s.commitIndex,
            appliedIndex: s.appliedIndex,
          };
        },
        onError: (e) =>
          logger.warn({ component: "metrics" }, `serving metrics failed: ${(e as Error).message}`),
      });
    } catch (e) {
      await node.stop({ transferLeadership: false }).catch(() => {});
      await server.close().catch(() => {});
      throw new Error(`metrics.listen ${config.metrics.listen}: ${(e as Error).message}`);
    }
  }

  return {
    listenAddress: server.address,
    ...(metrics ? { metricsAddress: metrics.address } : {}),
    leaderId: () => node.leader().id,
    waitForLeader: (ms) => node.waitForLeader(ms),
    async stop({ transferTimeoutMs }) {
      try {
        await node.stop({ transferLeadership: true, timeoutMs: transferTimeoutMs });
      } finally {
        await Promise.all([server.close(), metrics?.close()]);
      }
    },
  };
};
