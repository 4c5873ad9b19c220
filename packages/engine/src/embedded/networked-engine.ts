// An embedded engine on the network: the node runs inside the application (its client is
// in-process: lease and eventual reads never leave the process), while peers reach it, and it
// reaches them, over Connect-RPC on one port. Writes made on a follower are forwarded to the
// leader with a network client. This is the embedded mode's production shape; EmbeddedEngine.start
// with a custom peerTransport is for tests and other transports.
import type { DEngineClient } from "@d-engine/client";
import { createClient } from "@d-engine/client/node";
import { createConnectPeerTransport, type NodeServer, startNodeServer } from "@d-engine/transport";
import type { EmbeddedOptions, MemberAddress } from "../options.js";
import { EmbeddedEngine } from "./embedded-engine.js";

export interface NetworkedEngineOptions
  extends Omit<EmbeddedOptions, "peerTransport" | "forwardTo"> {
  /** Where to listen (host and port; port 0 picks one, which then must also be `address`'s). */
  readonly listen: { readonly host: string; readonly port: number };
  /** Origins whose web pages may call this node's client services (CORS; default none). */
  readonly allowedOrigins?: readonly string[];
}

/** A running networked embedded engine: the engine, and the server peers and clients reach. */
export interface NetworkedEngine {
  readonly engine: EmbeddedEngine;
  readonly client: DEngineClient;
  readonly server: NodeServer;
  /** Stops the engine (handing off leadership if it leads), then the server and forward clients. */
  stop(opts?: { transferLeadership?: boolean; timeoutMs?: number }): Promise<void>;
}

export async function startNetworkedEngine(opts: NetworkedEngineOptions): Promise<NetworkedEngine> {
  const identity = { clusterId: opts.clusterId, nodeId: opts.nodeId, address: opts.address };
  // One network client per leader address, reused while that node leads.
  const forwarders = new Map<string, DEngineClient>();
  const forwardTo = (leader: MemberAddress): DEngineClient => {
    let c = forwarders.get(leader.address);
    if (!c) {
      c = createClient({ endpoints: [leader.address], timeoutMs: opts.requestTimeoutMs ?? 10_000 });
      forwarders.set(leader.address, c);
    }
    return c;
  };
  const engine = await EmbeddedEngine.start({
    ...opts,
    forwardTo,
    peerTransport: (handler) =>
      createConnectPeerTransport({ identity, onUnreachable: (id) => handler.onUnreachable(id) }),
  });
  let server: NodeServer;
  try {
    server = await startNodeServer({
      host: opts.listen.host,
      port: opts.listen.port,
      identity,
      peerHandler: engine.node.peerHandler,
      api: engine.node.api,
      ...(opts.limits ? { limits: opts.limits } : {}),
      ...(opts.allowedOrigins ? { allowedOrigins: opts.allowedOrigins } : {}),
    });
  } catch (e) {
    await engine.stop({ transferLeadership: false }).catch(() => undefined);
    throw e;
  }
  return {
    engine,
    client: engine.client,
    server,
    async stop(stopOpts) {
      try {
        await engine.stop(stopOpts);
      } finally {
        await server.close();
        await Promise.all([...forwarders.values()].map((c) => c.close().catch(() => undefined)));
      }
    },
  };
}
