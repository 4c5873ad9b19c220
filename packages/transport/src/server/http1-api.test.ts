// The client services over HTTP/1.1 on the node's own port, as browsers reach them: the browser
// entry of @d-engine/client (connect-web on fetch, which speaks HTTP/1.1 to a cleartext port)
// against a real node server on 127.0.0.1, beside an HTTP/2 client on the same port; peers'
// services not served over HTTP/1.1; CORS only for the origins configured; close() not held up
// by HTTP/1.1 connections.
import * as net from "node:net";
import { createClient, InvalidArgumentError, text } from "@d-engine/client";
import { createClient as createBrowserClient } from "@d-engine/client/browser";
import { describe, expect, it } from "vitest";
import { FakeApi } from "../testing/fake-api.js";
import { cleanupsAfterEach, serveFakeApi } from "../testing/serve-fake-api.js";
import { waitFor } from "../testing/wait.js";
import type { NodeServer } from "./node-server.js";

const cleanups = cleanupsAfterEach();

const PUT_PATH = "/dengine.api.v1.KvService/Put";
const APP = "https://app.example";
const OTHER = "https://other.example";

/** A fake API served as leader of itself, with `allowedOrigins` for browsers. */
async function serve(
  allowedOrigins?: readonly string[],
): Promise<{ api: FakeApi; server: NodeServer }> {
  const api = new FakeApi(1);
  const server = await serveFakeApi(api, cleanups, {
    asLeader: true,
    ...(allowedOrigins ? { allowedOrigins } : {}),
  });
  return { api, server };
}

function browserClient(server: NodeServer) {
  const c = createBrowserClient({ endpoints: [`http://${server.address}`] });
  cleanups.push(() => c.close());
  return c;
}

/** A CORS preflight for a Connect unary call from `origin`. */
function preflight(server: NodeServer, origin: string): Promise<Response> {
  return fetch(`http://${server.address}${PUT_PATH}`, {
    method: "OPTIONS",
    headers: {
      origin,
      "access-control-request-method": "POST",
      "access-control-request-headers": "content-type,connect-protocol-version",
    },
  });
}

/** A Connect unary Put in JSON from `origin`, as a page's script sends it. */
function putFrom(server: NodeServer, origin: string): Promise<Response> {
  return fetch(`http://${server.address}${PUT_PATH}`, {
    method: "POST",
    headers: { origin, "content-type": "application/json", "connect-protocol-version": "1" },
    body: JSON.stringify({ key: "a2V5", value: "dg==" }),
  });
}

describe("the client services over HTTP/1.1", () => {
  it("serve the browser client on the node's own port, beside an HTTP/2 client", async () => {
    const { api, server } = await serve();
    const web = browserClient(server);
    const node = createClient({ endpoints: [server.address] });
    cleanups.push(() => node.close());

    await web.put("from", "browser");
    await node.put("from-node", "http2");
    expect(text((await node.get("from"))?.value ?? new Uint8Array())).toBe("browser");
    expect(text((await web.get("from-node"))?.value ?? new Uint8Array())).toBe("http2");
    // A server stream (the snapshot download) over HTTP/1.1.
    api.snapshot = new Uint8Array(2_000_000).fill(9);
    let n = 0;
    for await (const ch of web.maintenance.downloadSnapshot()) n += ch.length;
    expect(n).toBe(2_000_000);
    // Errors keep their kind.
    expect(await web.put("", "x").catch((e) => e)).toBeInstanceOf(InvalidArgumentError);
  });

  it("do not include the peers' services", async () => {
    const { server } = await serve(["*"]);
    for (const method of ["Replicate", "InstallSnapshot"]) {
      const r = await fetch(`http://${server.address}/dengine.peer.v1.RaftPeerService/${method}`, {
        method: "POST",
        headers: { "content-type": "application/connect+proto" },
        body: new Uint8Array(5),
      });
      expect(r.status).toBe(404);
    }
    // While the client services answer on the same connection type.
    expect((await putFrom(server, APP)).status).toBe(200);
  });

  it("answer no cross-origin call when no origin is allowed (the default)", async () => {
    const { api, server } = await serve();
    const pre = await preflight(server, APP);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    const r = await putFrom(server, APP);
    // The call itself is served (a browser would hide the answer from the page: no
    // Access-Control-Allow-Origin), as for any non-browser client.
    expect(r.headers.get("access-control-allow-origin")).toBeNull();
    expect(api.calls.some((c) => c.method === "put")).toBe(true);
  });

  it("allow the listed origins, and only those", async () => {
    const { server } = await serve([APP]);
    const pre = await preflight(server, APP);
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe(APP);
    expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
    const allowed = pre.headers.get("access-control-allow-headers")?.toLowerCase().split(",");
    expect(allowed).toEqual(expect.arrayContaining(["connect-protocol-version", "traceparent"]));
    const ok = await putFrom(server, APP);
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(APP);
    expect(ok.headers.get("access-control-expose-headers")?.toLowerCase()).toContain("grpc-status");

    const other = await preflight(server, OTHER);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    expect((await putFrom(server, OTHER)).headers.get("access-control-allow-origin")).toBeNull();
  });

  it('allow any origin with "*"', async () => {
    const { server } = await serve(["*"]);
    expect((await preflight(server, OTHER)).headers.get("access-control-allow-origin")).toBe("*");
  });

  it("let close() end idle, silent and streaming HTTP/1.1 connections", async () => {
    const { api, server } = await serve();
    const web = browserClient(server);
    await web.put("k", "v"); // leaves fetch's keep-alive connection idle
    // A connection that never sends a byte.
    const silent = net.connect(server.port, "127.0.0.1");
    silent.on("error", () => {});
    cleanups.push(() => {
      silent.destroy();
    });
    await new Promise<void>((r) => silent.once("connect", () => r()));
    const silentClosed = new Promise<void>((r) => silent.once("close", () => r()));
    // A watch: a server stream that only the close ends.
    const w = web.watch({ key: "k" });
    const it = w[Symbol.asyncIterator]();
    const next = it.next().catch((e: unknown) => e);
    await waitFor(() => api.watches.openCount === 1, "the watch to open");

    const started = performance.now();
    await server.close();
    // The grace (200 ms) bounds the wait, not the connections' own lifetimes.
    expect(performance.now() - started).toBeLessThan(2000);
    await silentClosed;
    await waitFor(() => api.watches.openCount === 0, "the server to drop the watch");
    w.cancel();
    await next;
  });
});
