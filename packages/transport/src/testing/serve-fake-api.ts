// The route tests' node server: a fake API served on 127.0.0.1 (any free port), quiet, with a
// short shutdown grace, closed by the test file's cleanups after each test.
import { type NodeServer, type NodeServerOptions, startNodeServer } from "../server/node-server.js";
import type { FakeApi } from "./fake-api.js";
import { nullPeerHandler } from "./wait.js";

export type Cleanups = (() => Promise<void> | void)[];

export async function serveFakeApi(
  api: FakeApi,
  cleanups: Cleanups,
  limits?: NodeServerOptions["limits"],
): Promise<NodeServer> {
  const server = await startNodeServer({
    host: "127.0.0.1",
    port: 0,
    identity: { clusterId: "test", nodeId: api.nodeId, address: "127.0.0.1:0" },
    peerHandler: nullPeerHandler,
    api,
    ...(limits ? { limits } : {}),
    logger: { warn: () => {} },
    shutdownGraceMs: 200,
  });
  cleanups.push(() => server.close());
  return server;
}
