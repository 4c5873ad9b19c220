// The metrics listener: plain HTTP/1.1 (node:http) beside the node's cleartext HTTP/2 port, which
// Prometheus cannot scrape (like etcd's --listen-metrics-urls). It serves
//   GET /metrics  the node's metrics in the Prometheus text format;
//   GET /health   JSON about the node's view of the cluster: 200 when it knows a leader, else 503
//                 (a load balancer or an orchestrator probe takes a node without a leader out).
// It lives in the server, not the engine: an application embedding the engine already has an
// HTTP server of its own and mounts RaftNode.metrics.text() there.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { formatHostPort } from "../config/index.js";

/** What /health reports. */
export interface Health {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly role: string;
  readonly term: number;
  /** 0: no leader known. */
  readonly leaderId: number;
  readonly commitIndex: number;
  readonly appliedIndex: number;
}

export interface MetricsServerOptions {
  readonly host: string;
  /** 0: any free port (tests). */
  readonly port: number;
  readonly metrics: { text(): Promise<string>; readonly contentType: string };
  readonly health: () => Health;
  /** Told when producing a response failed (the client gets a 500). */
  readonly onError?: (e: unknown) => void;
}

export interface MetricsServer {
  /** host:port it listens on. */
  readonly address: string;
  close(): Promise<void>;
}

export async function startMetricsServer(o: MetricsServerOptions): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    handle(o, req, res).catch((e: unknown) => {
      o.onError?.(e);
      if (!res.headersSent) send(res, 500, "text/plain; charset=utf-8", "internal error\n");
      else res.destroy();
    });
  });
  // Scrapes are small and periodic; never let one hold a socket open for long.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(o.port, o.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return {
    address: formatHostPort(a.address, a.port),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Prometheus keeps its connection alive between scrapes: end idle ones now.
        server.closeAllConnections();
      }),
  };
}

async function handle(o: MetricsServerOptions, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? "/").split("?")[0];
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("Allow", "GET, HEAD");
    send(res, 405, "text/plain; charset=utf-8", "method not allowed\n");
    return;
  }
  switch (path) {
    case "/metrics":
      send(res, 200, o.metrics.contentType, await o.metrics.text());
      return;
    case "/health": {
      const h = o.health();
      const ok = h.leaderId !== 0;
      const body = { status: ok ? "ok" : "no-leader", hasLeader: ok, ...h };
      send(res, ok ? 200 : 503, "application/json", `${JSON.stringify(body)}\n`);
      return;
    }
    default:
      send(res, 404, "text/plain; charset=utf-8", "not found: try /metrics or /health\n");
  }
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, {
    "Content-Type": type,
    "Content-Length": Buffer.byteLength(body),
    "Cache-Control": "no-store",
  });
  res.end(res.req.method === "HEAD" ? undefined : body);
}
