// One call's lifetime: its deadline, the caller's AbortSignal and the client's close() folded
// into one AbortSignal that every attempt of the call (and an abortable backoff) listens to.
import type { CallTrace } from "../tracing/call-span.js";

export type AbortCause = "deadline" | "cancelled" | "closed";

export class CallScope {
  readonly controller = new AbortController();
  /** performance.now() at which the deadline passes (Infinity: none). */
  readonly deadline: number;
  private readonly timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onUserAbort: (() => void) | undefined;
  cause: AbortCause | undefined;
  userReason: unknown;
  /** The call's span (set by the client's run()). */
  trace: CallTrace | undefined;

  constructor(
    readonly timeoutMs: number | undefined,
    private readonly userSignal: AbortSignal | undefined,
  ) {
    this.deadline = timeoutMs === undefined ? Number.POSITIVE_INFINITY : now() + timeoutMs;
    if (timeoutMs !== undefined) {
      this.timer = setTimeout(() => this.abort("deadline"), timeoutMs);
    }
    if (userSignal) {
      if (userSignal.aborted) {
        this.userReason = userSignal.reason;
        this.abort("cancelled");
      } else {
        this.onUserAbort = () => {
          this.userReason = userSignal.reason;
          this.abort("cancelled");
        };
        userSignal.addEventListener("abort", this.onUserAbort, { once: true });
      }
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get aborted(): boolean {
    return this.controller.signal.aborted;
  }

  /** Milliseconds left (undefined: no deadline), at least 1. */
  remainingMs(): number | undefined {
    if (this.deadline === Number.POSITIVE_INFINITY) return undefined;
    return Math.max(1, Math.ceil(this.deadline - now()));
  }

  abort(cause: AbortCause): void {
    if (this.aborted) return;
    this.cause = cause;
    this.controller.abort(new Error(`call ${cause}`));
  }

  /** Waits `ms` (capped at the deadline); resolves early when the call is aborted. */
  sleep(ms: number): Promise<void> {
    // The deadline passed but its timer has not fired yet: end the call here, or a retry loop
    // whose attempts fail without I/O (an in-memory transport) spins on microtasks forever and
    // the timer never gets its turn.
    if (!this.aborted && now() >= this.deadline) this.abort("deadline");
    const wait = Math.max(0, Math.min(ms, this.deadline - now()));
    if (this.aborted || wait === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.signal.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, wait);
      this.signal.addEventListener("abort", done, { once: true });
    });
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onUserAbort) this.userSignal?.removeEventListener("abort", this.onUserAbort);
    // Ends whatever may still run under this call (a stream the consumer stopped reading).
    if (!this.aborted) this.controller.abort(new Error("call finished"));
  }
}

export function now(): number {
  return performance.now();
}

/** Resolves or rejects like `p`, or rejects when `signal` aborts first. */
export function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
