// ReadIndex bookkeeping on the leader: read requests waiting for a heartbeat round to confirm
// that this node still leads. Requests queue in arrival order; when a quorum acknowledges the
// heartbeat that carried some request's context, that request and every one queued before it
// are safe to serve at the commit index recorded when each arrived.
import type { NodeId } from "./types.js";

export interface ReadRequest {
  /** The node that asked (this node for local reads, else the follower that forwarded it). */
  readonly from: NodeId;
  readonly context: Uint8Array;
  /** Serve from the leader's lease if it holds (needs RaftConfig.leaseReads); else ReadIndex. */
  readonly lease?: boolean;
}

export interface ReadIndexStatus {
  readonly request: ReadRequest;
  /** The commit index when the request arrived: reads may be served once applied up to it. */
  readonly index: number;
  readonly acks: Set<NodeId>;
}

/** A map key for a request context. */
export function contextKey(ctx: Uint8Array): string {
  let s = "";
  for (let i = 0; i < ctx.length; i++) s += String.fromCharCode(ctx[i] as number);
  return s;
}

export class ReadOnly {
  private pending = new Map<string, ReadIndexStatus>();
  private queue: string[] = [];
  /** The queue length when the last heartbeat round started: requests after it need a round. */
  private announced = 0;

  /** Queues a request at `index`. Returns false if a request with this context is already waiting. */
  addRequest(index: number, request: ReadRequest): boolean {
    const key = contextKey(request.context);
    if (this.pending.has(key)) return false;
    this.pending.set(key, { request, index, acks: new Set() });
    this.queue.push(key);
    return true;
  }

  /** Records that `id` acknowledged the heartbeat carrying `ctx`; returns who has acked it. */
  recvAck(id: NodeId, ctx: Uint8Array): ReadonlySet<NodeId> | undefined {
    const rs = this.pending.get(contextKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /** Releases the request with `ctx` and every request queued before it. */
  advance(ctx: Uint8Array): ReadIndexStatus[] {
    const key = contextKey(ctx);
    const at = this.queue.indexOf(key);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1);
    this.announced = Math.max(0, this.announced - released.length);
    return released.map((k) => {
      const rs = this.pending.get(k) as ReadIndexStatus;
      this.pending.delete(k);
      return rs;
    });
  }

  /** Whether requests arrived since the last heartbeat round was started. */
  hasUnannounced(): boolean {
    return this.queue.length > this.announced;
  }

  /** The context of the newest request, to carry in one heartbeat round for all queued requests. */
  announce(): Uint8Array | undefined {
    const last = this.queue[this.queue.length - 1];
    if (last === undefined) return undefined;
    this.announced = this.queue.length;
    return (this.pending.get(last) as ReadIndexStatus).request.context;
  }

  get size(): number {
    return this.queue.length;
  }

  /** Drops every waiting request (leadership lost); returns them so callers can be told. */
  clear(): ReadRequest[] {
    const dropped = this.queue.map((k) => (this.pending.get(k) as ReadIndexStatus).request);
    this.pending = new Map();
    this.queue = [];
    this.announced = 0;
    return dropped;
  }
}
