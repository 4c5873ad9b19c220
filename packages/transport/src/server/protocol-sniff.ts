// One port, two protocols. Peers and Node clients speak cleartext HTTP/2 (h2c); browsers cannot:
// without TLS a browser's fetch speaks HTTP/1.1 only. So the node's listener reads the first
// bytes of each connection and hands it to the HTTP/2 server when they are the HTTP/2 preface
// (RFC 9113 section 3.4: every h2c connection opens with "PRI * HTTP/2.0"), and to the HTTP/1.1
// server otherwise (no HTTP/1.1 method is "PRI"). Every node address then serves both, which
// matters because clients learn the leader's address from the cluster and follow it.
//
// The bytes read are put back (`unshift`) before the hand-over: node:http2 and node:http both
// read what is already buffered on a socket given to them through their "connection" event.
import type { Socket } from "node:net";

/** The start of the HTTP/2 connection preface; three bytes tell it from any HTTP/1.1 request. */
const PREFACE_START = Buffer.from("PRI", "latin1");

export type WireProtocol = "http2" | "http1";

/**
 * The protocol `first` (a connection's first bytes) opens, or undefined while too few bytes
 * have arrived to tell.
 */
export function protocolOf(first: Uint8Array): WireProtocol | undefined {
  const n = Math.min(first.length, PREFACE_START.length);
  for (let i = 0; i < n; i++) if (first[i] !== PREFACE_START[i]) return "http1";
  return first.length >= PREFACE_START.length ? "http2" : undefined;
}

export interface SniffOptions {
  /** A connection that sends too few bytes to tell within this long is closed. */
  readonly timeoutMs: number;
  /** Called once with the socket, its first bytes put back, and the protocol they open. */
  readonly route: (socket: Socket, protocol: WireProtocol) => void;
}

/**
 * Reads `socket` until its protocol is known, then routes it. Until then the socket belongs to
 * the sniffer: an error or the timeout destroys it, and nothing else reads from it.
 */
export function sniffProtocol(socket: Socket, opts: SniffOptions): void {
  let seen: Buffer = Buffer.alloc(0);
  const done = (): void => {
    socket.off("data", onData);
    socket.off("error", onError);
    socket.setTimeout(0);
    socket.off("timeout", onTimeout);
  };
  const onData = (chunk: Buffer): void => {
    seen = seen.length === 0 ? chunk : Buffer.concat([seen, chunk]);
    const protocol = protocolOf(seen);
    if (protocol === undefined) return;
    done();
    // Paused so that no byte is emitted before the new owner listens; node:http2 takes the socket
    // over natively and reads what is buffered, node:http listens for "data" and needs the flow
    // restarted (an explicit pause outlives a new listener).
    socket.pause();
    socket.unshift(seen);
    opts.route(socket, protocol);
    if (protocol === "http1") socket.resume();
  };
  const onError = (): void => {
    done();
    socket.destroy();
  };
  const onTimeout = (): void => {
    done();
    socket.destroy();
  };
  socket.on("data", onData);
  socket.on("error", onError);
  socket.setTimeout(opts.timeoutMs);
  socket.on("timeout", onTimeout);
}
