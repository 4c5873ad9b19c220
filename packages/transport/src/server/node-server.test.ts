// startNodeServer's lifecycle: port 0, one port for every service, and a close() that returns
// even with client sessions and peer streams still open.
import * as http2 from "node:http2";
import { MessageType, message } from "@d-engine/core";
import { afterEach, describe, expect, it } from "vitest";
import { createConnectPeerTransport } from "../peer/connect-transport.js";
import { FakeApi } from "../testing/fake-api.js";
import { nullPeerHandler, waitFor } from "../testing/wait.js";
import { startNodeServer } from "./node-server.js";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()?.();
});

describe("startNodeServer", () => {
  it("closes promptly with an idle client session and an open peer stream", async () => {
    const got: number[] = [];
    const server = await startNodeServer({
      host: "127.0.0.1",
      port: 0,
      identity: { clusterId: "c", nodeId: 2, address: "127.0.0.1:0" },
      peerHandler: { ...nullPeerHandler, onMessages: (from) => got.push(from) },
      api: new FakeApi(2),
      logger: { warn: () => {} },
      shutdownGraceMs: 300,
    });
    expect(server.port).toBeGreaterThan(0);
    expect(server.address).toBe(`127.0.0.1:${server.port}`);

    // An idle HTTP/2 session (a client that connected and went quiet).
    const idle = http2.connect(`http://${server.address}`);
    idle.on("error", () => {});
    cleanups.push(() => {
      idle.destroy();
    });
    await new Promise<void>((r) => idle.once("connect", () => r()));
    // A long-lived peer stream.
    const unreachable: number[] = [];
    const t = createConnectPeerTransport({
      identity: { clusterId: "c", nodeId: 1, address: "127.0.0.1:1" },
      peers: new Map([[2, server.address]]),
      onUnreachable: (id) => unreachable.push(id),
    });
    cleanups.push(() => t.close());
    t.send([message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 })]);
    await waitFor(() => got.length === 1, "the peer stream to deliver");

    const started = performance.now();
    await server.close();
    // The grace period, not the session's lifetime, bounds the wait.
    expect(performance.now() - started).toBeLessThan(2000);
    // The peer side noticed and reports the node unreachable.
    await waitFor(() => {
      t.send([message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 })]);
      return unreachable.includes(2);
    }, "the sender to notice");
  });
});
