// Serving a read at the consistency a call gets: the server's default, or the one the call asks
// for if overrides are allowed. Eventual reads run at once on local state; so do lease reads on a
// leader whose lease holds and whose state machine has applied the commit index
// (ReadQueue.leaseIndexNow says why that is the queued path's own answer); other linearizable and
// lease reads wait in the ReadQueue (bounded by backpressure.maxPendingReads).
import {
  type Consistency,
  ConsistencyOverrideForbiddenError,
  ResourceExhaustedError,
} from "@d-engine/client";
import type { NodeLoop } from "../loop/node-loop.js";
import type { ResolvedOptions } from "../options.js";
import type { CallDeadline } from "../proposals/proposer.js";
import type { ReadQueue } from "./read-queue.js";

export class Reader {
  constructor(
    private readonly queue: ReadQueue,
    private readonly loop: NodeLoop,
    private readonly opts: ResolvedOptions,
    private readonly checkAccepting: () => void,
  ) {}

  /** The consistency a call gets. */
  consistency(asked: Consistency | undefined): Consistency {
    const dflt = this.opts.defaultConsistency;
    if (asked === undefined || asked === dflt) return dflt;
    if (!this.opts.allowOverride) {
      throw new ConsistencyOverrideForbiddenError(
        `this server serves ${dflt} reads only (reads.allowOverride is off); the call asked for ${asked}`,
      );
    }
    return asked;
  }

  /**
   * Whether a read asking for `asked` may run on local state right now (an eventual read, or a
   * lease read while the lease answers): what readAt decides first, for a caller that then reads
   * without building a closure (KvApiImpl.get, the hot in-process path). Throws as read() does.
   */
  servesNow(asked: Consistency | undefined): boolean {
    this.checkAccepting();
    return this.atOnce(this.consistency(asked));
  }

  /** Whether a read at `level` may run on local state right now. */
  private atOnce(level: Consistency): boolean {
    return (
      level === "eventual" || (level === "lease" && this.queue.leaseIndexNow(this.opts.tickMs) >= 0)
    );
  }

  /** Runs `read` against local state once the consistency the call gets allows it. */
  read<T>(asked: Consistency | undefined, read: () => T, opts: CallDeadline = {}): Promise<T> {
    this.checkAccepting();
    return this.readAt(this.consistency(asked), read, opts);
  }

  /** As read(), at a level the caller decided (no override check). */
  readAt<T>(level: Consistency, read: () => T, opts: CallDeadline = {}): Promise<T> {
    this.checkAccepting();
    if (this.atOnce(level)) return runNow(read);
    const o = this.opts;
    const lease = level === "lease";
    if (this.queue.size >= o.maxPendingReads) {
      throw new ResourceExhaustedError(
        o.retryAfterMs,
        `${this.queue.size} reads are pending (backpressure.maxPendingReads is ${o.maxPendingReads})`,
      );
    }
    const deadline = Date.now() + (opts.timeoutMs ?? o.requestTimeoutMs);
    // A lease read refused only because the tick is late waits for it rather than paying for a
    // ReadIndex round through the next Ready (ReadQueue.tickWait).
    const afterTick = lease && this.queue.tickOverdue(o.tickMs);
    const p = this.queue.add(lease, read, deadline, opts.signal, afterTick);
    this.loop.schedule();
    return p;
  }
}

/** Runs a read that may be served at once; its error rejects the promise, as a queued read's does. */
function runNow<T>(read: () => T): Promise<T> {
  try {
    return Promise.resolve(read());
  } catch (e) {
    return Promise.reject(e);
  }
}
