// What the route tests share: a fake API served on 127.0.0.1 (any free port), quiet, with a
// short shutdown grace, and a list of things to close after each test.
import { afterEach } from "vitest";
import type { PeerHandler } from "../peer/types.js";
import { type NodeServer, type NodeServerOptions, startNodeServer } from "../server/node-server.js";
import type { FakeApi } from "./fake-api.js";
import { nullPeerHandler } from "./wait.js";

export type Cleanups = (() => Promise<void> | void)[];

/** A list run (last in, first out) after each test of the file that calls this at its top. */
export function cleanupsAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()?.();
  });
  return cleanups;
}

export interface ServeOptions {
  readonly limits?: NodeServerOptions["limits"];
  /** Where peer traffic goes (default: nowhere). */
  readonly peerHandler?: PeerHandler;
  /** Collects the server's warnings (default: dropped). */
  readonly warnings?: string[];
  /** The fake names itself the leader, at its own address (term 3). */
  readonly asLeader?: boolean;
  /** Origins whose pages may call over HTTP/1.1 (CORS; default none). */
  readonly allowedOrigins?: NodeServerOptions["allowedOrigins"];
}

export async function serveFakeApi(
  api: FakeApi,
  cleanups: Cleanups,
  opts: ServeOptions = {},
): Promise<NodeServer> {
  const server = await startNodeServer({
    host: "127.0.0.1",
    port: 0,
    identity: { clusterId: "test", nodeId: api.nodeId, address: "127.0.0.1:0" },
    peerHandler: opts.peerHandler ?? nullPeerHandler,
    api,
    ...(opts.limits ? { limits: opts.limits } : {}),
    ...(opts.allowedOrigins ? { allowedOrigins: opts.allowedOrigins } : {}),
    logger: { warn: (_fields: unknown, message: string) => opts.warnings?.push(message) },
    shutdownGraceMs: 200,
  });
  cleanups.push(() => server.close());
  if (opts.asLeader) {
    api.leaderInfo = { leaderId: api.nodeId, leaderAddress: server.address, term: 3 };
  }
  return server;
}
