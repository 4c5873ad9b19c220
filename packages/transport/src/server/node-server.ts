// One node's network face, on one port: a cleartext HTTP/2 server (connect-node) serving the peer
// service and the client services in the Connect, gRPC and gRPC-Web protocols, and beside it an
// HTTP/1.1 server with the client services only, for browsers (http1-api.ts). Each connection
// goes to one or the other by its first bytes (protocol-sniff.ts). Two streams on the hot path
// are written by hand on node:http2: Replicate, the replication stream (replicate-server.ts), and
// KvService.Pipeline in the protocols the Node client speaks (pipeline-server.ts).
import type * as http from "node:http";
import * as http2 from "node:http2";
import * as net from "node:net";
import { createConnectRouter } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import {
  DEFAULT_LIMITS,
  type DEngineClient,
  HTTP2_WINDOW_BYTES,
  type Limits,
} from "@d-engine/client";
import { apiRoutes } from "../api/api-routes.js";
import { kvCalls } from "../api/kv-calls.js";
import { PIPELINE_PATH, pipelineWire, servePipeline } from "../api/pipeline-server.js";
import { consoleLogger, type TransportLogger } from "../log.js";
import { peerRoutes } from "../peer/peer-routes.js";
import { REPLICATE_PATH, serveReplicate } from "../peer/replicate-server.js";
import type { PeerHandler, PeerIdentity } from "../peer/types.js";
import { createHttp1ApiServer } from "./http1-api.js";
import { withMalformedAsInvalidArgument } from "./parse-errors.js";
import { sniffProtocol } from "./protocol-sniff.js";
import { requestPath, serveConnect } from "./serve-connect.js";

/** A connection that has not sent enough to tell its protocol within this long is closed. */
const FIRST_BYTES_TIMEOUT_MS = 10_000;

export interface NodeServerOptions {
  /** The interface to listen on (e.g. "127.0.0.1"). */
  readonly host: string;
  /** The port; 0 picks a free one (see the result's `port`). */
  readonly port: number;
  readonly identity: PeerIdentity;
  readonly peerHandler: PeerHandler;
  readonly api: DEngineClient;
  readonly limits?: Partial<Limits>;
  readonly logger?: TransportLogger;
  /** HTTP/2 receive window per stream and connection (default 4 MiB). */
  readonly windowBytes?: number;
  /** How long close() lets in-flight calls finish before cutting them off (default 2000 ms). */
  readonly shutdownGraceMs?: number;
  /** The largest message accepted (default 64 MiB; requests are also held to `limits`). */
  readonly readMaxBytes?: number;
  /**
   * Origins whose web pages may call the client services over HTTP/1.1 (CORS), e.g.
   * "https://app.example.com"; "*" allows any. Default: none (same-origin requests only).
   */
  readonly allowedOrigins?: readonly string[];
}

export interface NodeServer {
  /** host:port as peers and clients reach it. */
  readonly address: string;
  readonly port: number;
  /** Stops accepting, ends peer streams, lets calls finish (up to the grace), then cuts the rest. */
  close(): Promise<void>;
}

export async function startNodeServer(opts: NodeServerOptions): Promise<NodeServer> {
  const logger = opts.logger ?? consoleLogger;
  const windowBytes = opts.windowBytes ?? HTTP2_WINDOW_BYTES;
  const peerStop = new AbortController();
  const callStop = new AbortController();

  const router = createConnectRouter({
    // Never compress: replication and snapshots are bulk traffic on fast links (ANCHORS.md).
    acceptCompression: [],
    readMaxBytes: opts.readMaxBytes ?? 64 * 1024 * 1024,
    shutdownSignal: callStop.signal,
  });
  peerRoutes(opts.identity, opts.peerHandler, { logger, shutdownSignal: peerStop.signal })(router);
  // Pipeline streams end when the close begins (peerStop), not only when the grace runs out.
  apiRoutes(opts.api, {
    ...(opts.limits ? { limits: opts.limits } : {}),
    shutdownSignal: peerStop.signal,
  })(router);
  const paths = new Map<string, UniversalHandler>();
  for (const h of router.handlers) paths.set(h.requestPath, withMalformedAsInvalidArgument(h));

  // KvService.Pipeline in the protocols the Node client speaks, by hand (pipeline-server.ts).
  const pipeline = {
    calls: kvCalls(opts.api, { ...DEFAULT_LIMITS, ...opts.limits }),
    options: {
      shutdownSignal: peerStop.signal,
      maxMessageBytes: opts.readMaxBytes ?? 64 * 1024 * 1024,
    },
  };

  const replicate = {
    identity: opts.identity,
    handler: opts.peerHandler,
    logger,
    shutdownSignal: peerStop.signal,
    maxFrameBytes: opts.readMaxBytes ?? 64 * 1024 * 1024,
  };

  const onRequest = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void => {
    const path = requestPath(req);
    if (path === REPLICATE_PATH) {
      // Replication's hot path, on the HTTP/2 stream itself (replicate-server.ts). The compat
      // request is never read, so it never touches the stream.
      serveReplicate(req.stream, req.headers, replicate);
      return;
    }
    if (path === PIPELINE_PATH) {
      const wire = pipelineWire(req.headers);
      if (wire) {
        servePipeline(req.stream, wire, pipeline.calls, pipeline.options);
        return;
      }
    }
    serveConnect(paths.get(path), req, res, logger);
  };

  const server = http2.createServer(
    { settings: { initialWindowSize: windowBytes }, maxSessionMemory: 64 },
    onRequest,
  );
  // connect-node's server.close() would wait for every client session to end on its own: track
  // them so close() can end them.
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on("session", (session) => {
    sessions.add(session);
    session.on("close", () => sessions.delete(session));
    session.on("error", () => {});
    try {
      session.setLocalWindowSize(windowBytes);
    } catch {
      // Already closing.
    }
  });

  const http1 = createHttp1ApiServer({
    handlers: paths,
    allowedOrigins: opts.allowedOrigins ?? [],
    logger,
  });
  // HTTP/1.1 calls in progress, so that close() can give them the grace HTTP/2 calls get.
  const http1Calls = new Set<http.ServerResponse>();
  http1.on("request", (_req, res: http.ServerResponse) => {
    http1Calls.add(res);
    res.once("close", () => http1Calls.delete(res));
  });
  const hasCall = (socket: net.Socket): boolean => {
    for (const res of http1Calls) if (res.socket === socket) return true;
    return false;
  };

  // Connections still sending their first bytes, and HTTP/1.1 connections: node:http tracks its
  // connections only on a server that listens itself, so close() ends these.
  const sniffing = new Set<net.Socket>();
  const http1Sockets = new Set<net.Socket>();
  // No Nagle delay for either protocol: node:http2 sets it on its sessions' sockets, and node:http
  // on the sockets of servers that listen themselves.
  const listener = net.createServer({ noDelay: true }, (socket) => {
    sniffing.add(socket);
    socket.once("close", () => {
      sniffing.delete(socket);
      http1Sockets.delete(socket);
    });
    sniffProtocol(socket, {
      timeoutMs: FIRST_BYTES_TIMEOUT_MS,
      route: (s, protocol) => {
        sniffing.delete(s);
        if (protocol === "http1") http1Sockets.add(s);
        (protocol === "http2" ? server : http1).emit("connection", s);
      },
    });
  });
  await new Promise<void>((resolve, reject) => {
    listener.once("error", reject);
    listener.listen(opts.port, opts.host, () => {
      listener.off("error", reject);
      resolve();
    });
  });
  listener.on("error", (e) => logger.warn({ err: String(e) }, "server error"));
  const port = (listener.address() as net.AddressInfo).port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => listener.close(() => resolve()));
      for (const s of sniffing) s.destroy();
      peerStop.abort();
      for (const s of sessions) s.close();
      // Keep-alive connections between calls end now; those with a call in progress once the
      // calls are done or the grace is over.
      for (const s of http1Sockets) if (!hasCall(s)) s.destroy();
      await untilEmptyOr([sessions, http1Calls], opts.shutdownGraceMs ?? 2000);
      callStop.abort();
      for (const s of sessions) s.destroy();
      for (const s of http1Sockets) s.destroy();
      await closed;
    })();
    return closing;
  };

  return { address: `${host}:${port}`, port, close };
}

/** Something whose "close" event removes it from its set (a session, a call's response). */
interface Closable {
  once(event: "close", listener: () => void): unknown;
}

/** Resolves once every set is empty (its members closed), or after `ms`. */
function untilEmptyOr(sets: readonly Set<Closable>[], ms: number): Promise<void> {
  const empty = (): boolean => sets.every((s) => s.size === 0);
  if (empty()) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const set of sets) {
      for (const member of set) {
        // The set drops its member on the same event, registered first.
        member.once("close", () => {
          if (empty()) done();
        });
      }
    }
  });
}
