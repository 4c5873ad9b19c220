// The first-bytes router: which protocol a connection opens, however its first bytes arrive,
// and what happens to a connection that never says.
import * as net from "node:net";
import { describe, expect, it } from "vitest";
import { protocolOf, sniffProtocol, type WireProtocol } from "./protocol-sniff.js";

const bytes = (s: string): Uint8Array => Buffer.from(s, "latin1");

describe("protocolOf", () => {
  it.each([
    ["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "http2"],
    ["PRI", "http2"],
    ["POST /dengine.api.v1.KvService/Put HTTP/1.1\r\n", "http1"],
    ["GET / HTTP/1.1\r\n", "http1"],
    ["OPTIONS / HTTP/1.1\r\n", "http1"],
    ["PUT / HTTP/1.1\r\n", "http1"],
    ["PRX", "http1"],
    ["\x16\x03\x01", "http1"], // a TLS ClientHello: not h2c; node:http answers it 400
  ] as const)("%j opens %s", (first, protocol) => {
    expect(protocolOf(bytes(first))).toBe(protocol);
  });

  it.each(["", "P", "PR"])("%j is too short to tell", (first) => {
    expect(protocolOf(bytes(first))).toBeUndefined();
  });

  it("tells HTTP/1.1 from the first byte that differs", () => {
    expect(protocolOf(bytes("G"))).toBe("http1");
    expect(protocolOf(bytes("PO"))).toBe("http1");
  });
});

/** A listener that sniffs each connection and reports what it routed and the bytes after it. */
async function sniffingListener(timeoutMs = 5_000): Promise<{
  port: number;
  routed: Promise<{ protocol: WireProtocol; data: string }>;
  closed: Promise<void>;
  /** How many connections were routed so far. */
  routes(): number;
  close(): Promise<void>;
}> {
  let routes = 0;
  let onRouted!: (r: { protocol: WireProtocol; data: string }) => void;
  let onClosed!: () => void;
  const routed = new Promise<{ protocol: WireProtocol; data: string }>((r) => {
    onRouted = r;
  });
  const closed = new Promise<void>((r) => {
    onClosed = r;
  });
  const server = net.createServer((socket) => {
    socket.once("close", () => onClosed());
    sniffProtocol(socket, {
      timeoutMs,
      route: (s, protocol) => {
        routes++;
        // The new owner reads everything, the sniffed bytes first, until the client ends.
        let data = "";
        s.setEncoding("latin1");
        s.on("data", (d: string) => {
          data += d;
        });
        s.on("end", () => onRouted({ protocol, data }));
        s.resume();
      },
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    port: (server.address() as net.AddressInfo).port,
    routed,
    closed,
    routes: () => routes,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** Connects and sends `parts` one write at a time, each after the previous one has been sent. */
async function send(port: number, parts: readonly string[]): Promise<net.Socket> {
  const c = net.connect(port, "127.0.0.1");
  c.setNoDelay(true);
  await new Promise<void>((r) => c.once("connect", () => r()));
  for (const p of parts) await new Promise<void>((r) => c.write(p, "latin1", () => r()));
  return c;
}

describe("sniffProtocol", () => {
  it.each([
    [["PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "more"], "http2"],
    [["P", "R", "I * HTTP/2.0\r\n"], "http2"],
    [["GET / HTTP/1.1\r\n", "\r\n"], "http1"],
    [["P", "OST / HTTP/1.1\r\n"], "http1"],
  ] as const)("routes %j as %s with every byte, in order", async (parts, protocol) => {
    const l = await sniffingListener();
    const c = await send(l.port, parts);
    c.end();
    const r = await l.routed;
    expect(r.protocol).toBe(protocol);
    expect(r.data).toBe(parts.join(""));
    await l.close();
  });

  it("closes a connection that stays silent past the timeout", async () => {
    const l = await sniffingListener(50);
    const c = await send(l.port, ["P"]);
    const clientClosed = new Promise<void>((r) => c.once("close", () => r()));
    await l.closed;
    await clientClosed;
    expect(c.destroyed).toBe(true);
    expect(l.routes()).toBe(0);
    await l.close();
  });

  it("closes a connection that ends before saying", async () => {
    const l = await sniffingListener();
    const c = await send(l.port, ["PR"]);
    c.end();
    await l.closed;
    expect(l.routes()).toBe(0);
    await l.close();
  });
});
