// An in-process PeerTransport network for tests: each node gets its own PeerTransport, and
// messages travel between them as copies (so no node ever shares an object with another),
// asynchronously and in order per link, as a real stream would deliver them. Tests cut links,
// isolate nodes, partition the cluster and heal it; snapshots stream through the receiver's
// SnapshotReceiver chunk by chunk, and a transfer can be broken off part-way to test resuming.
import type { Message, NodeId, SnapshotMetadata } from "@d-engine/core";
import type { OutgoingSnapshot, PeerHandler, PeerTransport, SnapshotReceiver } from "./types.js";

export interface MemoryTransportOptions {
  /** Called (asynchronously) with each peer a message could not be delivered to. */
  readonly onUnreachable?: (id: NodeId) => void;
}

/** What happened on the network, for tests that assert on traffic. */
export interface MemoryNetworkStats {
  delivered: number;
  dropped: number;
  snapshotsSent: number;
  snapshotsFailed: number;
}

/** The error a transfer or an undeliverable snapshot fails with. */
export class MemoryLinkError extends Error {
  override name = "MemoryLinkError";
}

interface Endpoint {
  readonly handler: PeerHandler;
  readonly transport: MemoryPeerTransport;
}

/** One direction of one link: messages queued for delivery, flushed on a later macrotask. */
interface LinkQueue {
  messages: Message[];
  scheduled: boolean;
}

export class MemoryNetwork {
  readonly stats: MemoryNetworkStats = {
    delivered: 0,
    dropped: 0,
    snapshotsSent: 0,
    snapshotsFailed: 0,
  };
  private readonly endpoints = new Map<NodeId, Endpoint>();
  /** Directed links that are cut, as "from>to". */
  private readonly cut = new Set<string>();
  /** Nodes cut off from everyone by isolate(). */
  private readonly isolated = new Set<NodeId>();
  private readonly queues = new Map<string, LinkQueue>();
  /** One-shot: the next snapshot transfer breaks off after this many bytes. */
  private breakNextSnapshotAt: number | undefined;

  /**
   * A factory in the shape the engine takes (`(handler) => PeerTransport`) for node `id`.
   * Connecting again under the same id (a restart) replaces the previous endpoint.
   */
  transport(
    id: NodeId,
    opts: MemoryTransportOptions = {},
  ): (handler: PeerHandler) => PeerTransport {
    return (handler) => this.connect(id, handler, opts);
  }

  connect(id: NodeId, handler: PeerHandler, opts: MemoryTransportOptions = {}): PeerTransport {
    const transport = new MemoryPeerTransport(this, id, opts);
    this.endpoints.set(id, { handler, transport });
    return transport;
  }

  /** Cuts every link to and from `id` (also to nodes that connect later), until heal(). */
  isolate(id: NodeId): void {
    this.isolated.add(id);
  }

  /** Splits the nodes into groups that cannot talk to each other (nodes unnamed: unchanged). */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    for (let i = 0; i < groups.length; i++) {
      for (let j = 0; j < groups.length; j++) {
        if (i === j) continue;
        for (const a of groups[i] as readonly NodeId[]) {
          for (const b of groups[j] as readonly NodeId[]) this.cut.add(`${a}>${b}`);
        }
      }
    }
  }

  /** Cuts the link between `a` and `b` in both directions (or only a -> b if `oneWay`). */
  cutLink(a: NodeId, b: NodeId, oneWay = false): void {
    this.cut.add(`${a}>${b}`);
    if (!oneWay) this.cut.add(`${b}>${a}`);
  }

  /** Restores every link, or (with `id`) every link of that node. */
  heal(id?: NodeId): void {
    if (id === undefined) {
      this.cut.clear();
      this.isolated.clear();
      return;
    }
    this.isolated.delete(id);
    for (const link of [...this.cut]) {
      const [a, b] = link.split(">");
      if (Number(a) === id || Number(b) === id) this.cut.delete(link);
    }
  }

  /** Whether a message from `from` would reach `to` now. */
  canReach(from: NodeId, to: NodeId): boolean {
    if (this.isolated.has(from) || this.isolated.has(to)) return false;
    return !this.cut.has(`${from}>${to}`) && this.endpoints.has(to);
  }

  /** Makes the next snapshot transfer fail after `bytes` bytes (to test resuming). */
  breakNextSnapshotAfter(bytes: number): void {
    this.breakNextSnapshotAt = bytes;
  }

  /** Ids of the connected nodes. */
  knownIds(): NodeId[] {
    return [...this.endpoints.keys()];
  }

  // ---------------------------------------------------------------- used by the transports

  /** @internal */
  enqueue(from: NodeId, to: NodeId, m: Message): boolean {
    if (!this.canReach(from, to)) {
      this.stats.dropped++;
      return false;
    }
    const key = `${from}>${to}`;
    let q = this.queues.get(key);
    if (!q) {
      q = { messages: [], scheduled: false };
      this.queues.set(key, q);
    }
    // A copy: the receiver must never share an object (or a byte array) with the sender.
    q.messages.push(copyMessage(m));
    if (!q.scheduled) {
      q.scheduled = true;
      const queue = q;
      setImmediate(() => this.flush(from, to, queue));
    }
    return true;
  }

  private flush(from: NodeId, to: NodeId, q: LinkQueue): void {
    q.scheduled = false;
    const batch = q.messages;
    q.messages = [];
    const ep = this.endpoints.get(to);
    const sender = this.endpoints.get(from);
    // A link cut (or a sender closed) while messages were in flight loses them, as a broken
    // stream would.
    if (!ep || !sender || sender.transport.closed || !this.canReach(from, to)) {
      this.stats.dropped += batch.length;
      return;
    }
    this.stats.delivered += batch.length;
    ep.handler.onMessages(from, batch);
  }

  /** @internal */
  async streamSnapshot(from: NodeId, to: NodeId, snap: OutgoingSnapshot): Promise<void> {
    const ep = this.endpoints.get(to);
    if (!ep || !this.canReach(from, to)) {
      this.stats.snapshotsFailed++;
      throw new MemoryLinkError(`node ${to} cannot be reached from ${from}`);
    }
    // Always on a later macrotask, like a stream opening.
    await new Promise<void>((resolve) => setImmediate(resolve));
    let rx: SnapshotReceiver;
    try {
      rx = await ep.handler.receiveSnapshot({
        from,
        term: snap.term,
        metadata: copyMetadata(snap.metadata),
        totalBytes: snap.totalBytes,
        crc32c: snap.crc32c,
      });
    } catch (e) {
      this.stats.snapshotsFailed++;
      throw e;
    }
    const breakAt = this.breakNextSnapshotAt;
    this.breakNextSnapshotAt = undefined;
    let offset = rx.resumeOffset;
    try {
      for await (const chunk of snap.chunks(offset)) {
        let part = chunk;
        if (breakAt !== undefined && offset + part.length > breakAt) {
          part = part.subarray(0, Math.max(0, breakAt - offset));
          if (part.length > 0) await rx.write(offset, part.slice());
          offset += part.length;
          throw new MemoryLinkError(`snapshot transfer to ${to} broken off at byte ${offset}`);
        }
        if (!this.canReach(from, to)) {
          throw new MemoryLinkError(`link ${from} -> ${to} cut during a snapshot transfer`);
        }
        await rx.write(offset, part.slice());
        offset += part.length;
      }
      await rx.finish();
      this.stats.snapshotsSent++;
    } catch (e) {
      this.stats.snapshotsFailed++;
      await rx.abort(e).catch(() => undefined);
      throw e;
    }
  }

  /** @internal */
  detach(id: NodeId, transport: MemoryPeerTransport): void {
    if (this.endpoints.get(id)?.transport === transport) this.endpoints.delete(id);
  }
}

class MemoryPeerTransport implements PeerTransport {
  closed = false;
  /** Addresses the engine told us about (the memory network routes by id; kept for tests). */
  readonly addresses = new Map<NodeId, string>();

  constructor(
    private readonly net: MemoryNetwork,
    private readonly id: NodeId,
    private readonly opts: MemoryTransportOptions,
  ) {}

  send(messages: readonly Message[]): void {
    if (this.closed) return;
    const unreachable = new Set<NodeId>();
    for (const m of messages) {
      if (!this.net.enqueue(this.id, m.to, m)) unreachable.add(m.to);
    }
    const report = this.opts.onUnreachable;
    if (report && unreachable.size > 0) {
      // Never re-enter the engine from inside its own send call.
      setImmediate(() => {
        if (this.closed) return;
        for (const id of unreachable) report(id);
      });
    }
  }

  sendSnapshot(to: NodeId, snapshot: OutgoingSnapshot): Promise<void> {
    if (this.closed) return Promise.reject(new MemoryLinkError("transport closed"));
    return this.net.streamSnapshot(this.id, to, snapshot);
  }

  setPeerAddress(id: NodeId, address: string): void {
    this.addresses.set(id, address);
  }

  removePeer(id: NodeId): void {
    this.addresses.delete(id);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.net.detach(this.id, this);
  }
}

/**
 * A deep copy of a message. Byte arrays are sliced (not structuredClone'd: a view into a large
 * read buffer would drag the whole buffer along).
 */
function copyMessage(m: Message): Message {
  return {
    ...m,
    entries: m.entries.map((e) => ({ ...e, data: e.data.slice() })),
    context: m.context.slice(),
    ...(m.snapshot
      ? { snapshot: { metadata: copyMetadata(m.snapshot.metadata), data: m.snapshot.data.slice() } }
      : {}),
  };
}

function copyMetadata(md: SnapshotMetadata): SnapshotMetadata {
  const cs = md.confState;
  return {
    index: md.index,
    term: md.term,
    confState: {
      voters: [...cs.voters],
      learners: [...cs.learners],
      votersOutgoing: [...cs.votersOutgoing],
      learnersNext: [...cs.learnersNext],
      autoLeave: cs.autoLeave,
    },
  };
}
