// Linearizable and lease reads. Each read asks the core for a read index with a context unique
// across the cluster and across restarts (node id, a random boot nonce, a counter); the core
// answers in a later Ready (at once for a lease read while the leader's lease holds, after a
// heartbeat round otherwise, through the leader when this node follows). The read then waits
// until the state machine has applied that index and runs against local state.
//
// A read whose context the core dropped (leadership changed) is asked again with a new context;
// so is every read waiting on a follower when the leader changes (its answer may never come).
// With no leader known a read waits for one, until its deadline.
//
// Lease reads skip all of this when they can be answered at once (leaseIndexNow, used by the
// Reader). While the core's tick is overdue they wait for it instead (tickWait): an in-process
// caller in a tight loop of answered-at-once reads never lets the event loop reach its timers.
import { randomBytes } from "node:crypto";
// Imported: the global `performance` is a lazy getter, a visible cost on the per-read lease check.
import { performance } from "node:perf_hooks";
import { TimeoutError, UnavailableError } from "@d-engine/client";
import { isRaftError, type RawNode, type ReadState } from "@d-engine/core";

interface PendingRead {
  readonly lease: boolean;
  readonly deadline: number;
  /** Runs the read against local state and settles the caller. */
  readonly serve: () => void;
  readonly reject: (e: Error) => void;
  readonly cleanup: () => void;
  index: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ReadQueue {
  private readonly nonce = randomBytes(6).toString("hex");
  private seq = 0;
  /** Waiting for the core's answer, by context. */
  private readonly asked = new Map<string, PendingRead>();
  /** Answered, waiting for the state machine to apply their index. */
  private applying: PendingRead[] = [];
  /** No leader known when they were asked. */
  private parked: PendingRead[] = [];
  /** Lease reads waiting for the core's overdue tick; sweep() serves or asks them after it. */
  private tickWait: PendingRead[] = [];
  /**
   * The state machine's applied index as last handed to serve(). The runtime calls serve() after
   * every Ready, right after applying (no await in between), so between Readies this is exactly
   * the state machine's index; during one it can only lag (a lower bound, never ahead).
   */
  private appliedSeen = 0;
  /** When (performance.now()) the core last ticked: sweep() runs after every tick of the core. */
  private tickedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly raw: RawNode,
    private readonly nodeId: number,
  ) {}

  get size(): number {
    return this.asked.size + this.applying.length + this.parked.length + this.tickWait.length;
  }

  /**
   * Runs `read` once linearizable (lease: from the leader's lease if it holds). `afterTick`: a
   * lease read that first waits for the core's next tick (see tickOverdue), then is served at
   * once if the lease answers, or asked as usual.
   */
  add<T>(
    lease: boolean,
    read: () => T,
    deadline: number,
    signal?: AbortSignal,
    afterTick = false,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (this.remove(p)) reject(new TimeoutError("the read was cancelled", false));
      };
      const p: PendingRead = {
        lease,
        deadline,
        index: 0,
        serve: () => {
          p.cleanup();
          try {
            resolve(read());
          } catch (e) {
            reject(e);
          }
        },
        reject: (e) => {
          p.cleanup();
          reject(e);
        },
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      if (afterTick) this.tickWait.push(p);
      else this.ask(p);
    });
  }

  private ask(p: PendingRead): void {
    const ctx = `${this.nodeId}.${this.nonce}.${++this.seq}`;
    try {
      this.raw.readIndex(encoder.encode(ctx), { lease: p.lease });
      this.asked.set(ctx, p);
    } catch (e) {
      if (!isRaftError(e, "read-dropped")) throw e;
      this.parked.push(p);
    }
  }

  onReadStates(states: readonly ReadState[]): void {
    for (const rs of states) {
      const key = decoder.decode(rs.context);
      const p = this.asked.get(key);
      if (!p) continue;
      this.asked.delete(key);
      p.index = rs.index;
      this.applying.push(p);
    }
  }

  /** The core dropped these requests (leadership changed while they waited): ask again. */
  onDropped(contexts: readonly Uint8Array[]): void {
    for (const c of contexts) {
      const key = decoder.decode(c);
      const p = this.asked.get(key);
      if (!p) continue;
      this.asked.delete(key);
      this.ask(p);
    }
  }

  /**
   * The leader changed: answers to reads asked of the old leader may never come (this node may
   * have followed it, or led itself), so every read still waiting is asked again, and parked
   * reads finally have someone to ask. A late answer to an old context is simply ignored.
   */
  onLeaderChange(leader: number): void {
    if (leader === 0) return;
    const again = [...this.parked, ...this.asked.values()];
    this.parked = [];
    this.asked.clear();
    for (const p of again) this.ask(p);
  }

  /**
   * The index a lease read may be served at right now, synchronously, or -1 (then queue it).
   * The core's leaseReadIndex() is the very answer readIndex({ lease: true }) would put in the
   * next Ready (same checks, same commit index), and the read runs only once the state machine
   * has applied that index, as serve() would: so this is the queued path minus the wait for a
   * Ready. One more condition: the core's lease is counted in ticks, and a synchronous answer
   * does not let the event loop turn, so a caller in a tight loop could starve the tick timer
   * and stretch the lease in real time. The fast path is only taken while the last tick is less
   * than one tick interval old (the core's clock is as current as a healthy timer keeps it);
   * otherwise the read waits for the next tick (tickWait), which yields to the event loop, and
   * is decided again after it. With this check the fast path is, if anything, stricter than the
   * queued path, whose readIndex call trusts the core's clock however late its tick is.
   */
  leaseIndexNow(tickMs: number): number {
    if (this.tickOverdue(tickMs)) return -1;
    return this.leaseIndex();
  }

  /** Whether the core's next tick is late: its clock lags real time by a tick or more. */
  tickOverdue(tickMs: number): boolean {
    return performance.now() - this.tickedAt >= tickMs;
  }

  /** The core's lease read index if the state machine has applied it, else -1. */
  private leaseIndex(): number {
    const index = this.raw.leaseReadIndex();
    return index >= 0 && index <= this.appliedSeen ? index : -1;
  }

  /** Whether a read waits for the state machine to apply its index. */
  waitsForApply(): boolean {
    return this.applying.length > 0;
  }

  /** Serves every read whose index the state machine has reached. */
  serve(applied: number): void {
    if (applied > this.appliedSeen) this.appliedSeen = applied;
    if (this.applying.length === 0) return;
    const waiting: PendingRead[] = [];
    const due: PendingRead[] = [];
    for (const p of this.applying) (p.index <= applied ? due : waiting).push(p);
    this.applying = waiting;
    for (const p of due) p.serve();
  }

  /** After every tick of the core (the runtime's afterTick): expires reads past their deadline. */
  sweep(now: number): void {
    this.tickedAt = performance.now();
    const expired = (p: PendingRead) => p.deadline <= now;
    const failed: PendingRead[] = [];
    for (const [k, p] of this.asked) {
      if (expired(p)) {
        this.asked.delete(k);
        failed.push(p);
      }
    }
    failed.push(
      ...this.applying.filter(expired),
      ...this.parked.filter(expired),
      ...this.tickWait.filter(expired),
    );
    this.applying = this.applying.filter((p) => !expired(p));
    this.parked = this.parked.filter((p) => !expired(p));
    this.tickWait = this.tickWait.filter((p) => !expired(p));
    for (const p of failed) {
      p.reject(new TimeoutError("the read could not be confirmed in time (no leader?)", false));
    }
    this.afterTick();
  }

  /**
   * The core has just ticked: reads that waited for it are served if the lease answers now
   * (the same test as the Reader's fast path, with a current clock), else asked as usual.
   */
  private afterTick(): void {
    if (this.tickWait.length === 0) return;
    const waiting = this.tickWait;
    this.tickWait = [];
    // Serving runs reads, which change nothing in the core; asking does not change the lease.
    const leased = this.leaseIndex() >= 0;
    for (const p of waiting) {
      if (leased) p.serve();
      else this.ask(p);
    }
  }

  failAll(reason: string): void {
    const all = [...this.asked.values(), ...this.applying, ...this.parked, ...this.tickWait];
    this.asked.clear();
    this.applying = [];
    this.parked = [];
    this.tickWait = [];
    for (const p of all) p.reject(new UnavailableError(reason, false));
  }

  private remove(p: PendingRead): boolean {
    for (const [k, q] of this.asked) {
      if (q === p) {
        this.asked.delete(k);
        return true;
      }
    }
    const before = this.applying.length + this.parked.length + this.tickWait.length;
    this.applying = this.applying.filter((q) => q !== p);
    this.parked = this.parked.filter((q) => q !== p);
    this.tickWait = this.tickWait.filter((q) => q !== p);
    return this.applying.length + this.parked.length + this.tickWait.length < before;
  }
}
