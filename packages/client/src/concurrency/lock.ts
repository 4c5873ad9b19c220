// A distributed lock held by a session's lease. Waiters queue in order of arrival (queue.ts);
// the holder gets the key's create revision as a fencing token, which increases strictly from
// one holder to the next. The lock ends when released, or when the session's lease ends (the
// server deletes the key): a holder that dies frees the lock after its session's TTL.
//
// What a lock does NOT guarantee on its own: that the holder still holds it while it acts. A
// holder paused (GC, swap, a stopped VM) past its lease's end resumes believing it holds a lock
// someone else now holds. Pass `revision` to the guarded resource and have it reject tokens
// older than the newest it has seen (see the README's "Locks and elections").
import type { CallOptions } from "../types.js";
import {
  enqueue,
  predecessor,
  type QueueTicket,
  queuePrefix,
  waitForTurn,
  waitSignal,
  withdraw,
} from "./queue.js";
import type { Session } from "./session.js";

export interface LockHandle {
  readonly name: string;
  /** The holder's key: `<name>/<lease id in hex>`. */
  readonly key: Uint8Array;
  readonly keyText: string;
  /**
   * The key's create revision: the FENCING TOKEN. Every later holder of this lock gets a higher
   * one, so a resource that remembers the highest token it saw can refuse a stale holder.
   */
  readonly revision: number;
}

export class Lock {
  private readonly prefix: string;
  private ticket: QueueTicket | undefined;
  private busy = false;

  constructor(
    readonly session: Session,
    readonly name: string,
  ) {
    this.prefix = queuePrefix(name);
  }

  /**
   * The handle while this Lock believes it holds the lock: acquired, not released, and its
   * session not ended. Belief only (see stillHeld to ask the store, and the fencing token).
   */
  get held(): LockHandle | undefined {
    if (this.session.isEnded) return undefined;
    return this.ticket && this.handle(this.ticket);
  }

  /**
   * Waits until this session holds the lock. Stops with the caller's signal, timeoutMs
   * (TimeoutError), or the end of the session (SessionEndedError); a waiter that stops removes its
   * key, leaving the queue as if it never came.
   */
  async acquire(opts: CallOptions = {}): Promise<LockHandle> {
    this.begin();
    const { signal, dispose } = waitSignal(this.session, opts, `lock ${this.name}`);
    try {
      const ticket = await enqueue(this.session, this.prefix, "", signal);
      try {
        await waitForTurn(this.session, this.prefix, ticket, signal);
      } catch (e) {
        await withdraw(this.session, ticket).catch(() => undefined);
        throw e;
      }
      this.ticket = ticket;
      return this.handle(ticket);
    } finally {
      dispose();
      this.busy = false;
    }
  }

  /** Takes the lock if nobody holds or awaits it; otherwise leaves no trace and returns undefined. */
  async tryAcquire(opts: CallOptions = {}): Promise<LockHandle | undefined> {
    this.begin();
    const { signal, dispose } = waitSignal(this.session, opts, `lock ${this.name}`);
    try {
      const ticket = await enqueue(this.session, this.prefix, "", signal);
      let first = false;
      try {
        first =
          (await predecessor(this.session.client, this.prefix, ticket, signal)).kv === undefined;
      } finally {
        if (!first) await withdraw(this.session, ticket).catch(() => undefined);
      }
      if (!first) return undefined;
      this.ticket = ticket;
      return this.handle(ticket);
    } finally {
      dispose();
      this.busy = false;
    }
  }

  /**
   * Releases the lock: deletes the key if it is still this holder's. Resolves true if it was
   * still held, false if it had already ended (lease expired) or was never held.
   */
  async release(opts: CallOptions = {}): Promise<boolean> {
    const ticket = this.ticket;
    if (!ticket) return false;
    const released = await withdraw(this.session, ticket, opts);
    this.ticket = undefined;
    return released;
  }

  /** Asks the store (a linearizable read) whether this holder's key still exists. */
  async stillHeld(opts: CallOptions = {}): Promise<boolean> {
    const ticket = this.ticket;
    if (!ticket) return false;
    const r = await this.session.client.range({ key: ticket.key, keysOnly: true, ...opts });
    return r.kvs[0]?.createRevision === ticket.revision;
  }

  private begin(): void {
    if (this.busy || this.ticket) {
      throw new Error(`lock ${this.name}: this Lock already acquires or holds it`);
    }
    this.busy = true;
  }

  private handle(t: QueueTicket): LockHandle {
    return { name: this.name, key: t.key, keyText: t.keyText, revision: t.revision };
  }
}

/** Runs `fn` holding the lock `name` (its fencing token as argument), then releases it. */
export async function withLock<T>(
  session: Session,
  name: string,
  fn: (lock: LockHandle) => Promise<T>,
  opts: CallOptions = {},
): Promise<T> {
  const lock = new Lock(session, name);
  const handle = await lock.acquire(opts);
  try {
    return await fn(handle);
  } finally {
    await lock.release();
  }
}
