// Hands a request to one of connect-es's handlers and writes its answer, for both the HTTP/2
// server and the HTTP/1.1 one (node:http2's compat request and node:http's request alike).
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { Code, ConnectError } from "@connectrpc/connect";
import { type UniversalHandler, uResponseNotFound } from "@connectrpc/connect/protocol";
import {
  universalRequestFromNodeRequest,
  universalResponseToNodeResponse,
} from "@connectrpc/connect-node";
import type { TransportLogger } from "../log.js";

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/** Serves the request with `h`, or answers 404 (gRPC clients read it as Unimplemented). */
export function serveConnect(
  h: UniversalHandler | undefined,
  req: Request,
  res: Response,
  logger: TransportLogger,
): void {
  if (!h) {
    // An unknown service or method: 404, as connect-node answers.
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
}

/** The path of a request's URL, without its query. */
export function requestPath(req: Request): string {
  return req.url?.split("?", 2)[0] ?? "";
}
