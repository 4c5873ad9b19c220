// Linearizable and lease reads. Each read asks the core for a read index with a context unique
// across the cluster and across restarts (node id, a random boot nonce, a counter); the core
// answers in a later Ready (at once for a lease read while the leader's lease holds, after a
// heartbeat round otherwise, through the leader when this node follows). The read then waits
// until the state machine has applied that index and runs against local state.
//
// A read whose context the core dropped (leadership changed) is asked again with a new context;
// so is every read waiting on a follower when the leader changes (its answer may never come).
// With no leader known a read waits for one, until its deadline.
import { randomBytes } from "node:crypto";
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

  constructor(
    private readonly raw: RawNode,
    private readonly nodeId: number,
  ) {}

  get size(): number {
    return this.asked.size + this.applying.length + this.parked.length;
  }

  /** Runs `read` once linearizable (lease: from the leader's lease if it holds). */
  add<T>(lease: boolean, read: () => T, deadline: number, signal?: AbortSignal): Promise<T> {
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
      this.ask(p);
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

  /** Serves every read whose index the state machine has reached. */
  serve(applied: number): void {
    if (this.applying.length === 0) return;
    const waiting: PendingRead[] = [];
    const due: PendingRead[] = [];
    for (const p of this.applying) (p.index <= applied ? due : waiting).push(p);
    this.applying = waiting;
    for (const p of due) p.serve();
  }

  sweep(now: number): void {
    const expired = (p: PendingRead) => p.deadline <= now;
    const failed: PendingRead[] = [];
    for (const [k, p] of this.asked) {
      if (expired(p)) {
        this.asked.delete(k);
        failed.push(p);
      }
    }
    failed.push(...this.applying.filter(expired), ...this.parked.filter(expired));
    this.applying = this.applying.filter((p) => !expired(p));
    this.parked = this.parked.filter((p) => !expired(p));
    for (const p of failed) {
      p.reject(new TimeoutError("the read could not be confirmed in time (no leader?)", false));
    }
  }

  failAll(reason: string): void {
    const all = [...this.asked.values(), ...this.applying, ...this.parked];
    this.asked.clear();
    this.applying = [];
    this.parked = [];
    for (const p of all) p.reject(new UnavailableError(reason, false));
  }

  private remove(p: PendingRead): boolean {
    for (const [k, q] of this.asked) {
      if (q === p) {
        this.asked.delete(k);
        return true;
      }
    }
    const before = this.applying.length + this.parked.length;
    this.applying = this.applying.filter((q) => q !== p);
    this.parked = this.parked.filter((q) => q !== p);
    return this.applying.length + this.parked.length < before;
  }
}
