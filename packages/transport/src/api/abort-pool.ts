// The AbortControllers a Pipeline stream lends its calls, reused. Each call needs a signal the
// engine can listen to (the client may cancel the call alone), and a new AbortController per
// call (with its EventTarget, alive while the call runs) cost the serving node 6 µs of CPU per
// read under load: one standalone cluster, 200 callers at once, the servers switched between
// rounds (16 and 12 alternating pairs), lease reads 42.8k -> 52.1k a second and the leader's CPU
// per read 0.015 -> 0.009 ms, eventual reads 40.5k -> 52.1k (better in 15 of 16 and 12 of 12
// pairs); writes 10.7k -> 11.3k (8 of 12); one caller at a time, no difference.
//
// A finished call's controller goes back to its stream's pool only when nothing can hear it any
// more: not aborted, and no "abort" listener left on its signal. A listener left behind (code that
// forgot to remove it, or is still running) keeps the controller out of the pool, so an abort
// meant for a later call can never reach an earlier one. (The engine's key-value calls leave
// none: packages/engine/src/raft-node.kv.test.ts checks each.)
import { getEventListeners } from "node:events";

export class AbortControllerPool {
  private readonly spare: AbortController[] = [];

  /** `max`: the most idle controllers kept (a stream's in-flight bound is a good size). */
  constructor(private readonly max: number) {}

  /** A controller for a new call: an idle one, or a new one. */
  take(): AbortController {
    return this.spare.pop() ?? new AbortController();
  }

  /** Hands back a finished call's controller; kept for reuse only if nothing can hear it. */
  give(ctl: AbortController): void {
    if (ctl.signal.aborted || this.spare.length >= this.max) return;
    if (getEventListeners(ctl.signal, "abort").length > 0) return;
    this.spare.push(ctl);
  }

  /** Idle controllers held (for tests). */
  get idle(): number {
    return this.spare.length;
  }
}
