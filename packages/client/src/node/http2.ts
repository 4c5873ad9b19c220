// HTTP/2 connections for Node clients with large flow-control windows. HTTP/2 starts every stream
// and every connection with a 64 KiB receive window; bulk transfers (replication batches,
// snapshot downloads) then stall on WINDOW_UPDATE round trips. Measured on these machines
// (ANCHORS.md), 4 MiB windows nearly double entries/s on a stream. The per-stream window is an
// HTTP/2 setting; the connection's own window can only be raised once the session exists, which
// connect-node's Http2SessionManager does not expose, hence this thin wrapper.
import type * as http2 from "node:http2";
import { Http2SessionManager, type Http2SessionOptions } from "@connectrpc/connect-node";

/** The receive window, per stream and per connection. */
export const HTTP2_WINDOW_BYTES = 4 * 1024 * 1024;

export interface WindowedSessionOptions extends Http2SessionOptions {
  /** Receive window per stream and per connection (default HTTP2_WINDOW_BYTES). */
  readonly windowBytes?: number;
}

/** An Http2SessionManager whose sessions get `windowBytes` receive windows. */
export class WindowedSessionManager {
  private readonly inner: Http2SessionManager;
  private readonly widened = new WeakSet<http2.ClientHttp2Session>();
  private readonly windowBytes: number;

  constructor(url: string, opts: WindowedSessionOptions = {}) {
    const { windowBytes = HTTP2_WINDOW_BYTES, ...ping } = opts;
    this.windowBytes = windowBytes;
    this.inner = new Http2SessionManager(url, ping, {
      settings: { initialWindowSize: windowBytes },
      // Node caps a session's buffered data at 10 MB by default; big windows need more room.
      maxSessionMemory: 64,
    });
  }

  get authority(): string {
    return this.inner.authority;
  }

  async request(
    method: string,
    path: string,
    headers: http2.OutgoingHttpHeaders,
    options: Omit<http2.ClientSessionRequestOptions, "signal">,
  ): Promise<http2.ClientHttp2Stream> {
    const stream = await this.inner.request(method, path, headers, options);
    const session = stream.session as http2.ClientHttp2Session | undefined;
    if (session && !this.widened.has(session)) {
      this.widened.add(session);
      try {
        session.setLocalWindowSize(this.windowBytes);
      } catch {
        // The session is already closing; the next one gets widened.
      }
    }
    return stream;
  }

  notifyResponseByteRead(stream: http2.ClientHttp2Stream): void {
    this.inner.notifyResponseByteRead(stream);
  }

  /** Closes the connection and its streams. */
  abort(reason?: Error): void {
    this.inner.abort(reason);
  }
}
