// One node's network face: a cleartext HTTP/2 server (connect-node) serving the peer service and
// the client services on one port, in the Connect, gRPC and gRPC-Web protocols. Two streams on
// the hot path are written by hand on node:http2 instead: Replicate, the replication stream
// (replicate-server.ts), and KvService.Pipeline in the protocols the Node client speaks
// (pipeline-server.ts). Browsers need an HTTP/1.1 or TLS listener for connect-web; this server is
// for nodes and Node clients.
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createConnectRouter } from "@connectrpc/connect";
import { type UniversalHandler, uResponseNotFound } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
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
import { withMalformedAsInvalidArgument } from "./parse-errors.js";

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
    const path = req.url?.split("?", 2)[0] ?? "";
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
    const h = paths.get(path);
    if (!h) {
      // An unknown service or method: 404, as connect-node answers (gRPC clients read it as
      // Unimplemented).
      res.writeHead(uResponseNotFound.status);
      res.end();
      return;
    }
    h(universalRequestFromNodeRequest(req, res, undefined, undefined))
      .then((uRes) => universalResponseToNodeResponse(uRes, res))
      .catch((reason) => {
        if (ConnectError.from(reason).code === Code.Aborted) return;
        logger.warn(
          { rpc: `${h.service.typeName}/${h.method.name}`, err: String(reason) },
          "handler failed",
        );
      });
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

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port, opts.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  server.on("error", (e) => logger.warn({ err: String(e) }, "server error"));
  const port = (server.address() as AddressInfo).port;
  const host = opts.host.includes(":") ? `[${opts.host}]` : opts.host;

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      peerStop.abort();
      for (const s of sessions) s.close();
      await untilEmptyOr(sessions, opts.shutdownGraceMs ?? 2000);
      callStop.abort();
      for (const s of sessions) s.destroy();
      await closed;
    })();
    return closing;
  };

  return { address: `${host}:${port}`, port, close };
}

/** Resolves once every session closed, or after `ms`. */
function untilEmptyOr(sessions: Set<http2.ServerHttp2Session>, ms: number): Promise<void> {
  if (sessions.size === 0) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const s of sessions) {
      s.once("close", () => {
        if (sessions.size === 0) done();
      });
    }
  });
}
