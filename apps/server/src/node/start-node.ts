// The composition of a server node: the engine's RaftNode with the Connect peer transport, and
// the node server that carries peer streams and the client API on one port.
import { RaftNode } from "@d-engine/engine";
import {
  createConnectPeerTransport,
  type PeerIdentity,
  startNodeServer,
} from "@d-engine/transport";
import type { ServerConfig } from "../config/index.js";
import { parseHostPort } from "../config/index.js";
import { engineLogger, type Logger } from "../log/logger.js";
import { toNodeOptions } from "./node-options.js";

/** A started node, as the lifecycle sees it. */
export interface RunningNode {
  /** The address the server listens on. */
  readonly listenAddress: string;
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
      logger: transportLogger,
    });
  } catch (e) {
    // The port is taken or the host is not ours: release the data dir before reporting it.
    await node.stop({ transferLeadership: false }).catch(() => {});
    throw e;
  }

  return {
    listenAddress: server.address,
    leaderId: () => node.leader().id,
    waitForLeader: (ms) => node.waitForLeader(ms),
    async stop({ transferTimeoutMs }) {
      try {
        await node.stop({ transferLeadership: true, timeoutMs: transferTimeoutMs });
      } finally {
        await server.close();
      }
    },
  };
};
