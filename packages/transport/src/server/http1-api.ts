// The client API over HTTP/1.1, for browsers (connect-web speaks the Connect protocol, or
// gRPC-Web, over fetch). Only the client services are served here: peers speak HTTP/2, and
// client-streaming calls (Pipeline, the lease keep-alive stream) need HTTP/2 too; connect-es
// answers them with an error over HTTP/1.1. The browser client uses unary and server-streaming
// calls only.
//
// A page from another origin may call the node only if that origin is listed (`allowedOrigins`):
// otherwise a page on any site could write to a node the visitor's browser reaches, such as one on
// their own 127.0.0.1. Every Connect and gRPC-Web call a page can make needs a CORS preflight
// (their content types are not a plain form's), and only listed origins get one answered. The
// answers come from the `cors` package, with connect-es's lists of the headers its protocols use.
import * as http from "node:http";
import { cors as connectCors } from "@connectrpc/connect";
import type { UniversalHandler } from "@connectrpc/connect/protocol";
import cors from "cors";
import type { TransportLogger } from "../log.js";
import { requestPath, serveConnect } from "./serve-connect.js";

/** The package of the client services, the only ones served over HTTP/1.1. */
const API_PACKAGE = "dengine.api.v1.";

/**
 * Headers a page's client may add beyond connect-es's own: the W3C trace context the client's
 * OpenTelemetry spans inject (packages/client/src/tracing/call-span.ts).
 */
const TRACE_HEADERS = ["traceparent", "tracestate"];

/** How long a browser may cache a preflight's answer (seconds). */
const PREFLIGHT_MAX_AGE_S = 7200;

export interface Http1ApiOptions {
  /** Every handler the node serves, by request path; the client services' are taken. */
  readonly handlers: ReadonlyMap<string, UniversalHandler>;
  /** Origins whose pages may call the node ("*": any); empty: same-origin requests only. */
  readonly allowedOrigins: readonly string[];
  readonly logger: TransportLogger;
}

/** An HTTP/1.1 server (not listening: sockets are handed to it) serving the client services. */
export function createHttp1ApiServer(opts: Http1ApiOptions): http.Server {
  const paths = new Map<string, UniversalHandler>();
  for (const [path, h] of opts.handlers) {
    if (h.service.typeName.startsWith(API_PACKAGE)) paths.set(path, h);
  }
  const withCors = corsMiddleware(opts.allowedOrigins);

  const serve = (req: http.IncomingMessage, res: http.ServerResponse): void =>
    serveConnect(paths.get(requestPath(req)), req, res, opts.logger);

  return http.createServer((req, res) => {
    if (withCors === undefined) {
      serve(req, res);
      return;
    }
    // The middleware answers preflights itself and calls on for everything else.
    withCors(req, res, () => serve(req, res));
  });
}

type Middleware = (req: http.IncomingMessage, res: http.ServerResponse, next: () => void) => void;

/** The CORS answers for `allowedOrigins`, or undefined when no cross-origin call is allowed. */
function corsMiddleware(allowedOrigins: readonly string[]): Middleware | undefined {
  if (allowedOrigins.length === 0) return undefined;
  return cors({
    origin: allowedOrigins.includes("*") ? "*" : [...allowedOrigins],
    methods: [...connectCors.allowedMethods],
    allowedHeaders: [...connectCors.allowedHeaders, ...TRACE_HEADERS],
    exposedHeaders: [...connectCors.exposedHeaders],
    maxAge: PREFLIGHT_MAX_AGE_S,
  }) as Middleware;
}
