// The 5-byte message envelopes of gRPC and of Connect's streaming protocol over HTTP/2, and gRPC's
// status trailers: the little of the two protocols that the streams written by hand on
// node:http2 need, so that their hot paths skip connect-es's generic streaming pipeline (async
// iterables, a serializer and an envelope transform per message). On a 2-core machine that
// pipeline cost about a third of a replication round trip (docs/benchmarks.md). Used by the
// server's Replicate and Pipeline streams (@d-engine/transport) and by the Node client's Pipeline
// stream (node/pipeline-stream.ts). The bytes are the protocols' own: any client or server
// interoperates.
//
// A message is an envelope: 1 flag byte, a 4-byte big-endian length, the protobuf bytes. Flags are
// 0 for a message; a compressed one (1) is refused. gRPC ends a call with trailers (grpc-status,
// grpc-message); Connect with a last envelope flagged END_STREAM_FLAG holding a JSON
// EndStreamResponse.
import { Code, ConnectError } from "@connectrpc/connect";

export const GRPC_CONTENT_TYPE = "application/grpc+proto";

/** The bytes before each message: flags, then the length. */
export const ENVELOPE_HEADER_BYTES = 5;

/** `body` framed as one gRPC message. */
export function envelope(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(ENVELOPE_HEADER_BYTES + body.length);
  out.set(body, ENVELOPE_HEADER_BYTES);
  return sealEnvelope(out);
}

/**
 * Writes the envelope header into the first ENVELOPE_HEADER_BYTES of `framed`, whose message
 * was written after them (encodeReplicateRequest's headroom); returns `framed`.
 */
export function sealEnvelope(framed: Uint8Array): Uint8Array {
  const n = framed.length - ENVELOPE_HEADER_BYTES;
  framed[0] = 0;
  framed[1] = n >>> 24;
  framed[2] = (n >>> 16) & 0xff;
  framed[3] = (n >>> 8) & 0xff;
  framed[4] = n & 0xff;
  return framed;
}

/** Connect's flag on the envelope that ends a stream (its body: a JSON EndStreamResponse). */
export const END_STREAM_FLAG = 2;

/**
 * Cuts a stream of bytes (HTTP/2 DATA chunks, split anywhere) into message bodies. A compressed
 * message or one over `maxBytes` is refused with InvalidArgument / ResourceExhausted. With
 * `acceptEndStream` (a Connect client reading responses), an envelope flagged END_STREAM_FLAG is
 * kept in `endStream` and must be the last; otherwise any flag but 0 is refused.
 */
export class EnvelopeReader {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  /** The body of the end-of-stream envelope, once read (acceptEndStream only). */
  endStream: Uint8Array | undefined;
  /** The flags of the envelope whose header was read last. */
  private flags = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly acceptEndStream = false,
  ) {}

  /** Adds `chunk`; returns the messages it completed, in order (plain Uint8Array views). */
  push(data: Uint8Array): Uint8Array[] {
    // Node hands out Buffers; what is decoded from them (entry data) must be plain views.
    let chunk = new Uint8Array(data.buffer, data.byteOffset, data.length);
    const out: Uint8Array[] = [];
    if (this.buffered === 0 && chunk.length >= 5) {
      // The common case: whole messages in one chunk, read without copying.
      let pos = 0;
      while (chunk.length - pos >= 5) {
        const n = this.header(chunk, pos);
        if (chunk.length - pos - 5 < n) break;
        this.deliver(chunk.subarray(pos + 5, pos + 5 + n), out);
        pos += 5 + n;
      }
      if (pos === chunk.length) return out;
      chunk = chunk.subarray(pos);
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 5) return out;
      const head = this.peek(5);
      const n = this.header(head, 0);
      if (this.buffered < 5 + n) return out;
      const whole = this.take(5 + n);
      this.deliver(whole.subarray(5), out);
    }
  }

  private deliver(body: Uint8Array, out: Uint8Array[]): void {
    if (this.flags === END_STREAM_FLAG) this.endStream = body;
    else out.push(body);
  }

  /** Bytes of an unfinished message held (a stream that ends with some was cut short). */
  get pending(): number {
    return this.buffered;
  }

  private header(buf: Uint8Array, pos: number): number {
    const flags = buf[pos] as number;
    if (this.endStream !== undefined) {
      throw new ConnectError("a message after the end of the stream", Code.InvalidArgument);
    }
    if (flags !== 0 && !(flags === END_STREAM_FLAG && this.acceptEndStream)) {
      throw new ConnectError(
        `a message with flags ${flags} (compressed messages are not accepted)`,
        Code.InvalidArgument,
      );
    }
    this.flags = flags;
    const n =
      (((buf[pos + 1] as number) << 24) >>> 0) +
      ((buf[pos + 2] as number) << 16) +
      ((buf[pos + 3] as number) << 8) +
      (buf[pos + 4] as number);
    if (n > this.maxBytes) {
      throw new ConnectError(
        `a gRPC message of ${n} bytes is over the limit of ${this.maxBytes}`,
        Code.ResourceExhausted,
      );
    }
    return n;
  }

  private peek(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) return first;
    return this.concat(n, false);
  }

  private take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    if (first.length >= n) {
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.buffered -= n;
      return first.subarray(0, n);
    }
    return this.concat(n, true);
  }

  private concat(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let pos = 0;
    let i = 0;
    while (pos < n) {
      const c = this.chunks[i] as Uint8Array;
      const k = Math.min(c.length, n - pos);
      out.set(c.subarray(0, k), pos);
      pos += k;
      if (consume) {
        if (k === c.length) {
          this.chunks.shift();
        } else {
          this.chunks[0] = c.subarray(k);
        }
      } else {
        i++;
      }
    }
    if (consume) this.buffered -= n;
    return out;
  }
}

/** Trailers that end a call with `code` (gRPC's numbering is Connect's) and `message`. */
export function statusTrailers(code: Code | 0, message = ""): Record<string, string> {
  const t: Record<string, string> = { "grpc-status": String(code) };
  if (message) t["grpc-message"] = encodeURIComponent(message);
  return t;
}

/** The error a call's trailers (or trailers-only headers) report; undefined for OK. */
export function statusError(
  headers: Record<string, string | string[] | undefined>,
): ConnectError | undefined {
  const raw = headers["grpc-status"];
  const status = Number(Array.isArray(raw) ? raw[0] : raw);
  if (raw === undefined || !Number.isInteger(status)) {
    return new ConnectError("the peer ended the call without a gRPC status", Code.Unknown);
  }
  if (status === 0) return undefined;
  const msg = headers["grpc-message"];
  let text = String(Array.isArray(msg) ? msg[0] : (msg ?? ""));
  try {
    text = decodeURIComponent(text);
  } catch {
    // Not percent-encoded after all: keep it as it came.
  }
  const code = status >= 1 && status <= 16 ? (status as Code) : Code.Unknown;
  return new ConnectError(text, code);
}
