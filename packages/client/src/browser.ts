// @d-engine/client for browsers and other fetch runtimes (the "browser" and "default" export
// conditions): createClient over connect-web, the Connect protocol on fetch. Nothing on this path
// imports a Node module (browser-entry.test.ts walks the import graph to prove it). Browsers
// speak HTTP/1.1 or TLS HTTP/2, so unary and server-streaming calls only, which is all the
// client API needs.
import { createConnectTransport } from "@connectrpc/connect-web";
import { createNetworkClient, type NetworkClient } from "./client/network-client.js";
import type { ClientOptions } from "./client/options.js";

export type { NetworkClient } from "./client/network-client.js";
export type { ClientOptions } from "./client/options.js";
export * from "./index.js";

/** A d-engine client for browsers: fetch-based, Connect protocol, binary messages. */
export function createClient(opts: ClientOptions): NetworkClient {
  return createNetworkClient(opts, {
    create: (baseUrl) => createConnectTransport({ baseUrl, useBinaryFormat: true }),
    close() {
      // fetch keeps no connection of ours to release; pending calls are aborted by the client.
    },
  });
}
