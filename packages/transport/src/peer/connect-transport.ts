// The sending side of peer traffic (gRPC protocol, HTTP/2, no compression, 4 MiB flow-control
// windows). One long-lived Replicate stream per peer carries batches: what send() queues in one
// turn is written at the turn's end (a microtask) as one frame, by hand on the HTTP/2 stream
// (@d-engine/client's wire/envelopes.ts: connect-es's streaming pipeline cost a third of a round
// trip); while the stream's buffer is full, messages queue and go out together on 'drain'.
//
// A peer that cannot be reached costs nothing: its messages are dropped and reported through
// onUnreachable (Raft retries on its own schedule), and the stream is reopened after a capped,
// jittered backoff when there is something to send again. Snapshots go on their own connection
// in CRC32C-checked chunks, resuming from the offset the receiver already holds.
import * as http2 from "node:http2";
import { create, fromBinary, toBinary } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { WindowedSessionManager } from "@d-engine/client";
import {
  ENVELOPE_HEADER_BYTES,
  EnvelopeReader,
  GRPC_CONTENT_TYPE,
  sealEnvelope,
  statusError,
} from "@d-engine/client/wire";
import type { Message, NodeId } from "@d-engine/core";
import {
  type InstallSnapshotRequest,
  InstallSnapshotRequestSchema,
  PeerHelloSchema,
  RaftPeerService,
  ReplicateResponseSchema,
  SnapshotHeaderSchema,
} from "@d-engine/proto/peer";
import { snapshotMetadataToProto } from "@d-engine/proto/raft-codec";
import { crc32c } from "@node-rs/crc32";
import { silentLogger, type TransportLogger } from "../log.js";
import { Channel } from "../util/channel.js";
import { approxMessageBytes } from "./codec.js";
import { makeHello } from "./hello.js";
import { encodeReplicateRequest } from "./message-encoding.js";
import { REPLICATE_PATH } from "./replicate-server.js";
import type { OutgoingSnapshot, PeerHandler, PeerIdentity, PeerTransport } from "./types.js";

export interface ConnectPeerTransportOptions {
  readonly identity: PeerIdentity;
  /** Unused by this transport (incoming traffic arrives through peerRoutes); accepted for symmetry. */
  readonly handler?: PeerHandler;
  /** Called with a peer's id when messages to it were dropped or its stream broke. */
  readonly onUnreachable?: (id: NodeId) => void;
  /** Initial peer addresses (host:port). */
  readonly peers?: ReadonlyMap<NodeId, string>;
  readonly logger?: TransportLogger;
  /** Reconnect backoff: starts at initialMs, doubles per failure, caps at maxMs (50 / 1000). */
  readonly reconnect?: { readonly initialMs?: number; readonly maxMs?: number };
  /** Messages queued for one peer beyond which new ones are dropped (default 10,000). */
  readonly maxQueuedMessages?: number;
  /** A frame is cut once its messages reach about this many bytes (default 8 MiB). */
  readonly maxFrameBytes?: number;
  /** Snapshot chunk size (default 512 KiB). */
  readonly snapshotChunkBytes?: number;
  /** Attempts per sendSnapshot, each resuming where the last broke off (default 3). */
  readonly snapshotAttempts?: number;
}

type LinkState = "idle" | "connecting" | "open" | "backoff" | "closed";

interface Settings {
  readonly identity: PeerIdentity;
  readonly logger: TransportLogger;
  readonly initialMs: number;
  readonly maxMs: number;
  readonly maxQueued: number;
  readonly maxFrameBytes: number;
  readonly unreachable: (id: NodeId) => void;
}

function baseUrl(address: string): string {
  return /^https?:\/\//.test(address) ? address : `http://${address}`;
}

function peerClient(address: string, sm: WindowedSessionManager): Client<typeof RaftPeerService> {
  const transport = createGrpcTransport({
    baseUrl: baseUrl(address),
    sessionManager: sm,
    // Replication is bulk traffic on loopback or a LAN: compressing costs more than it saves
    // (ANCHORS.md), and connect-node would advertise gzip by default.
    acceptCompression: [],
    useBinaryFormat: true,
  });
  return createClient(RaftPeerService, transport);
}

/** One peer: its address, its send queue and its Replicate stream. */
class PeerLink {
  state: LinkState = "idle";
  private queue: Message[] = [];
  /** The open Replicate stream (writable once the hello is out). */
  private stream: http2.ClientHttp2Stream | undefined;
  /** The stream's buffer is full: write again on its 'drain'. */
  private blocked = false;
  /** A flush is queued for the end of this turn (sends in one turn share a frame). */
  private flushQueued = false;
  private ctl: AbortController | undefined;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly sm: WindowedSessionManager;

  constructor(
    readonly id: NodeId,
    readonly address: string,
    private readonly s: Settings,
  ) {
    this.sm = new WindowedSessionManager(baseUrl(address), {
      // A dead peer with an open stream is noticed within seconds.
      pingIntervalMs: 5_000,
      pingTimeoutMs: 5_000,
    });
  }

  enqueue(messages: Message[]): void {
    switch (this.state) {
      case "closed":
        return;
      case "backoff":
        this.s.unreachable(this.id);
        return;
      case "idle":
        this.queue.push(...messages);
        this.connect();
        return;
      default:
        if (this.queue.length + messages.length > this.s.maxQueued) {
          this.s.unreachable(this.id);
          return;
        }
        this.queue.push(...messages);
        if (!this.flushQueued) {
          this.flushQueued = true;
          queueMicrotask(() => {
            this.flushQueued = false;
            this.flush();
          });
        }
    }
  }

  /**
   * Opens the Replicate stream (wire/envelopes.ts in @d-engine/client): the hello goes in the
   * first frame with whatever is queued; the peer answers the hello with its id, and ends the
   * call with a gRPC status.
   */
  private connect(): void {
    this.state = "connecting";
    const ctl = new AbortController();
    this.ctl = ctl;
    this.open(ctl).catch((e: unknown) => {
      if (this.ctl === ctl) this.fail(e);
    });
  }

  private async open(ctl: AbortController): Promise<void> {
    const stream = await this.sm.request(
      "POST",
      REPLICATE_PATH,
      { "content-type": GRPC_CONTENT_TYPE, te: "trailers" },
      {},
    );
    if (ctl.signal.aborted) {
      stream.close(http2.constants.NGHTTP2_CANCEL);
      return;
    }
    const ended = new Promise<never>((_, reject) => {
      const reader = new EnvelopeReader(1024 * 1024);
      ctl.signal.addEventListener("abort", () => stream.close(http2.constants.NGHTTP2_CANCEL), {
        once: true,
      });
      stream.on("response", (headers) => {
        const status = Number(headers[":status"]);
        if (status !== 200) reject(httpStatusError(status, this.address));
        // A trailers-only answer: the call was refused before any frame.
        else if (headers["grpc-status"] !== undefined) reject(statusError(headers) ?? endedError());
      });
      stream.on("data", (chunk: Uint8Array) => {
        this.sm.notifyResponseByteRead(stream);
        try {
          for (const body of reader.push(chunk)) this.onAnswer(body);
        } catch (e) {
          reject(e);
        }
      });
      stream.on("trailers", (t) => reject(statusError(t) ?? endedError()));
      stream.on("error", (e) => reject(new ConnectError(String(e), Code.Unavailable)));
      stream.on("close", () => reject(endedError()));
      stream.on("drain", () => {
        this.blocked = false;
        this.flush();
      });
    });
    this.stream = stream;
    this.writeFrame(makeHelloBytes(this.s.identity, this.id), this.take());
    this.flush();
    await ended;
  }

  /** The peer's answer to the hello: its id, which must be the one this link dials. */
  private onAnswer(body: Uint8Array): void {
    const res = fromBinary(ReplicateResponseSchema, body);
    if (res.nodeId !== BigInt(this.id)) {
      throw new ConnectError(
        `the node at ${this.address} is node ${res.nodeId}, expected ${this.id}`,
        Code.FailedPrecondition,
      );
    }
    if (this.state === "connecting") {
      this.state = "open";
      this.failures = 0;
    }
  }

  /** Writes what is queued, one frame per maxFrameBytes, until the stream's buffer is full. */
  private flush(): void {
    try {
      while (this.stream !== undefined && !this.blocked && this.queue.length > 0) {
        this.writeFrame(undefined, this.take());
      }
    } catch (e) {
      // A message that cannot be encoded (runs from a microtask or 'drain': nothing above
      // would catch it). The stream is dropped like a broken one; Raft sends again.
      this.fail(new ConnectError(`encoding a frame failed: ${String(e)}`, Code.Internal));
    }
  }

  private writeFrame(hello: Uint8Array | undefined, messages: Message[]): void {
    const stream = this.stream as http2.ClientHttp2Stream;
    const framed = encodeReplicateRequest(hello, messages, ENVELOPE_HEADER_BYTES);
    if (!stream.write(sealEnvelope(framed))) this.blocked = true;
  }

  /** The queued messages, up to about maxFrameBytes (at least one if any). */
  private take(): Message[] {
    let bytes = 0;
    let n = 0;
    while (n < this.queue.length) {
      bytes += approxMessageBytes(this.queue[n] as Message);
      if (n > 0 && bytes > this.s.maxFrameBytes) break;
      n++;
    }
    if (n === this.queue.length) {
      const all = this.queue;
      this.queue = [];
      return all;
    }
    return this.queue.splice(0, n);
  }

  private fail(e: unknown): void {
    if (this.state === "closed") return;
    const ce = ConnectError.from(e);
    this.ctl?.abort();
    this.ctl = undefined;
    this.stream = undefined;
    this.blocked = false;
    this.failures++;
    const dropped = this.queue.length;
    this.queue = [];
    const wasOpen = this.state === "open";
    this.state = "backoff";
    const base = Math.min(this.s.initialMs * 2 ** (this.failures - 1), this.s.maxMs);
    const delay = base / 2 + (Math.random() * base) / 2;
    // A refusal (another cluster, a wrong id) is a configuration problem worth a warning every
    // time; a peer that is down is logged on the first failure only.
    if (
      ce.code === Code.FailedPrecondition ||
      ce.code === Code.InvalidArgument ||
      this.failures === 1 ||
      wasOpen
    ) {
      this.s.logger.warn(
        {
          peer: this.id,
          address: this.address,
          code: Code[ce.code],
          dropped,
          retryInMs: Math.round(delay),
        },
        `peer stream to node ${this.id} at ${this.address} failed: ${ce.rawMessage}`,
      );
    }
    this.s.unreachable(this.id);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.state === "backoff") this.state = "idle";
    }, delay);
  }

  close(): void {
    this.state = "closed";
    if (this.timer) clearTimeout(this.timer);
    this.ctl?.abort();
    this.ctl = undefined;
    this.stream = undefined;
    this.queue = [];
    this.sm.abort();
  }
}

function endedError(): ConnectError {
  return new ConnectError("the peer ended the stream", Code.Unavailable);
}

/** An HTTP status other than 200 on the Replicate call, as gRPC clients map it. */
const HTTP_STATUS_CODES: Readonly<Record<number, Code>> = {
  401: Code.Unauthenticated,
  403: Code.PermissionDenied,
  404: Code.Unimplemented,
  415: Code.Unimplemented,
};

function httpStatusError(status: number, address: string): ConnectError {
  return new ConnectError(
    `the node at ${address} answered HTTP ${status} to Replicate`,
    HTTP_STATUS_CODES[status] ?? Code.Unavailable,
  );
}

function makeHelloBytes(identity: PeerIdentity, to: NodeId): Uint8Array {
  return toBinary(PeerHelloSchema, makeHello(identity, to));
}

/** Whether a failed snapshot transfer may be resumed by another attempt. */
function retryableSnapshotError(e: unknown): boolean {
  const code = ConnectError.from(e).code;
  return (
    code === Code.Unavailable ||
    code === Code.Aborted ||
    code === Code.DataLoss ||
    code === Code.Internal ||
    code === Code.Unknown ||
    code === Code.Canceled ||
    code === Code.DeadlineExceeded
  );
}

export function createConnectPeerTransport(opts: ConnectPeerTransportOptions): PeerTransport {
  return new ConnectPeerTransport(opts);
}

class ConnectPeerTransport implements PeerTransport {
  private readonly links = new Map<NodeId, PeerLink>();
  private readonly addresses = new Map<NodeId, string>();
  private readonly settings: Settings;
  private readonly snapshotChunkBytes: number;
  private readonly snapshotAttempts: number;
  private readonly transfers = new Set<AbortController>();
  private closed = false;

  constructor(private readonly opts: ConnectPeerTransportOptions) {
    const onUnreachable = opts.onUnreachable;
    this.settings = {
      identity: opts.identity,
      logger: opts.logger ?? silentLogger,
      initialMs: opts.reconnect?.initialMs ?? 50,
      maxMs: opts.reconnect?.maxMs ?? 1000,
      maxQueued: opts.maxQueuedMessages ?? 10_000,
      maxFrameBytes: opts.maxFrameBytes ?? 8 * 1024 * 1024,
      unreachable: (id) => {
        try {
          onUnreachable?.(id);
        } catch {
          // The engine's callback must not break the transport.
        }
      },
    };
    this.snapshotChunkBytes = opts.snapshotChunkBytes ?? 512 * 1024;
    this.snapshotAttempts = opts.snapshotAttempts ?? 3;
    for (const [id, address] of opts.peers ?? []) this.addresses.set(id, address);
  }

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    // Group by destination, keeping each peer's order.
    const byPeer = new Map<NodeId, Message[]>();
    for (const m of messages) {
      const list = byPeer.get(m.to);
      if (list) list.push(m);
      else byPeer.set(m.to, [m]);
    }
    for (const [id, list] of byPeer) {
      const link = this.link(id);
      if (link) link.enqueue(list);
      else this.settings.unreachable(id);
    }
  }

  private link(id: NodeId): PeerLink | undefined {
    let link = this.links.get(id);
    if (link) return link;
    const address = this.addresses.get(id);
    if (address === undefined || id === this.opts.identity.nodeId) return undefined;
    link = new PeerLink(id, address, this.settings);
    this.links.set(id, link);
    return link;
  }

  setPeerAddress(id: NodeId, address: string): void {
    if (this.addresses.get(id) === address) return;
    this.addresses.set(id, address);
    const old = this.links.get(id);
    if (old) {
      old.close();
      this.links.delete(id);
    }
  }

  removePeer(id: NodeId): void {
    this.addresses.delete(id);
    this.links.get(id)?.close();
    this.links.delete(id);
  }

  async sendSnapshot(to: NodeId, snapshot: OutgoingSnapshot): Promise<void> {
    let lastError: unknown;
    for (let attempt = 1; attempt <= this.snapshotAttempts; attempt++) {
      if (this.closed) throw new ConnectError("the transport is closed", Code.Unavailable);
      const address = this.addresses.get(to);
      if (address === undefined) {
        throw new ConnectError(`no address known for node ${to}`, Code.FailedPrecondition);
      }
      try {
        await this.transfer(to, address, snapshot);
        return;
      } catch (e) {
        lastError = e;
        const ce = ConnectError.from(e);
        this.settings.logger.warn(
          { peer: to, attempt, code: Code[ce.code] },
          `snapshot ${snapshot.metadata.index}@${snapshot.metadata.term} to node ${to} failed: ${ce.rawMessage}`,
        );
        if (!retryableSnapshotError(e) || attempt === this.snapshotAttempts) break;
        await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** (attempt - 1), 1000)));
      }
    }
    throw lastError;
  }

  /** One transfer attempt on a fresh connection, from the offset the receiver reports. */
  private async transfer(to: NodeId, address: string, snap: OutgoingSnapshot): Promise<void> {
    const sm = new WindowedSessionManager(baseUrl(address));
    const client = peerClient(address, sm);
    const ctl = new AbortController();
    this.transfers.add(ctl);
    const out = new Channel<InstallSnapshotRequest>(4);
    try {
      const responses = client.installSnapshot(out, { signal: ctl.signal })[Symbol.asyncIterator]();
      await out.push(
        create(InstallSnapshotRequestSchema, {
          header: create(SnapshotHeaderSchema, {
            hello: makeHello(this.opts.identity, to),
            term: BigInt(snap.term),
            metadata: snapshotMetadataToProto(snap.metadata),
            totalBytes: BigInt(snap.totalBytes),
            crc32c: snap.crc32c,
          }),
        }),
      );
      const first = await responses.next();
      if (first.done)
        throw new ConnectError("the receiver did not answer the header", Code.Aborted);
      const start = Number(first.value.resumeOffset);
      if (!(start >= 0 && start <= snap.totalBytes)) {
        throw new ConnectError(`the receiver asked to resume at ${start}`, Code.Internal);
      }
      // The receiver's next answer is its verdict; if it comes early, it is an error to stop on.
      const verdict = responses.next();
      let early: unknown;
      verdict.then(
        () => {
          early ??= new ConnectError("the receiver answered before the last chunk", Code.Internal);
          out.fail(early);
        },
        (e) => {
          early ??= e;
          out.fail(e);
        },
      );
      let offset = start;
      const chunk = this.snapshotChunkBytes;
      try {
        for await (const piece of snap.chunks(start)) {
          for (let i = 0; i < piece.length; i += chunk) {
            const data = piece.subarray(i, Math.min(i + chunk, piece.length));
            await out.push(
              create(InstallSnapshotRequestSchema, {
                offset: BigInt(offset),
                data,
                crc32c: crc32c(data),
              }),
            );
            offset += data.length;
          }
        }
        if (offset !== snap.totalBytes) {
          throw new ConnectError(
            `the snapshot's chunks from ${start} end at ${offset}, not at ${snap.totalBytes}`,
            Code.Internal,
          );
        }
        await out.push(
          create(InstallSnapshotRequestSchema, { offset: BigInt(offset), last: true }),
        );
        out.end();
      } catch (e) {
        throw early ?? e;
      }
      const r = await verdict;
      if (r.done || !r.value.done) {
        throw new ConnectError(
          "the receiver ended the transfer without installing it",
          Code.Aborted,
        );
      }
    } finally {
      out.fail(new Error("transfer finished"));
      ctl.abort();
      this.transfers.delete(ctl);
      sm.abort();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const link of this.links.values()) link.close();
    this.links.clear();
    for (const t of this.transfers) t.abort();
  }
}
