// The contract between the engine and whatever carries Raft traffic between nodes: the Connect
// transport (connect-transport.ts) in production, the in-memory network (memory-network.ts) in
// tests. The engine owns a PeerTransport to send; the transport calls the engine's PeerHandler
// with what arrives.
import type { Message, NodeId, SnapshotMetadata } from "@d-engine/core";

/** Who this node is, as peers must see it. A stream whose hello disagrees is refused. */
export interface PeerIdentity {
  readonly clusterId: string;
  readonly nodeId: NodeId;
  /** host:port where this node serves peer traffic. */
  readonly address: string;
}

/** A snapshot to stream to a follower: the encoded snapshot as the snapshot store holds it. */
export interface OutgoingSnapshot {
  /** The leader's term when it decided to send. */
  readonly term: number;
  readonly metadata: SnapshotMetadata;
  /** The encoded snapshot's length. */
  readonly totalBytes: number;
  /** The CRC32C of the whole encoded snapshot. */
  readonly crc32c: number;
  /** The encoded snapshot from `offset` on, in chunks (for resuming a broken transfer). */
  chunks(offset: number): AsyncIterable<Uint8Array>;
}

/** The header of an incoming snapshot. */
export interface IncomingSnapshotHeader {
  readonly from: NodeId;
  readonly term: number;
  readonly metadata: SnapshotMetadata;
  readonly totalBytes: number;
  readonly crc32c: number;
}

/** Receives one incoming snapshot; the engine keeps a partial one so a retry can resume. */
export interface SnapshotReceiver {
  /** How many bytes of this snapshot are already held (the sender resumes from there). */
  readonly resumeOffset: number;
  /** Appends bytes at `offset` (which is always the bytes held so far). */
  write(offset: number, data: Uint8Array): Promise<void>;
  /** All bytes arrived: verify, install, step into the core. Throws if they do not check out. */
  finish(): Promise<void>;
  /** The transfer broke off; keep what was written for a resume (or drop it). */
  abort(reason: unknown): Promise<void>;
}

/** What the engine offers the transport. */
export interface PeerHandler {
  /** Messages that arrived from peer `from` (already converted to core messages). */
  onMessages(from: NodeId, messages: readonly Message[]): void;
  /** A peer told us its address (the hello of a stream it opened). */
  onPeerAddress?(id: NodeId, address: string): void;
  /** A snapshot transfer begins. Throws to refuse it (stale term, busy). */
  receiveSnapshot(header: IncomingSnapshotHeader): Promise<SnapshotReceiver>;
}

/** What the transport offers the engine. */
export interface PeerTransport {
  /**
   * Queues messages for their destinations (m.to) and returns at once; each peer's messages go
   * out in order, batched. Never throws: a peer that cannot be reached is reported through the
   * `onUnreachable` callback given at creation, and its messages are dropped (Raft retries).
   */
  send(messages: readonly Message[]): void;
  /** Streams a snapshot to `to`; resolves when the peer installed it, rejects if it failed. */
  sendSnapshot(to: NodeId, snapshot: OutgoingSnapshot): Promise<void>;
  /** Sets (or changes) where peer `id` is reached. */
  setPeerAddress(id: NodeId, address: string): void;
  /** Forgets peer `id` and closes its stream. */
  removePeer(id: NodeId): void;
  close(): Promise<void>;
}
