// One call's lifetime: its deadline, the caller's AbortSignal and the client's close() folded
// into one abort that every attempt of the call (and an abortable backoff) listens to: as an
// AbortSignal for the Connect transport, or through onAbort() for the KV pipeline. The
// AbortController behind the signal is made only when something asks for the signal: creating
// one and aborting it when the call ends measured as a tenth of the client's CPU on pipelined
// reads, which never need it.
import type { CallTrace } from "../tracing/call-span.js";

export type AbortCause = "deadline" | "cancelled" | "closed";

/**
 * The reason a finished call's signal carries. One shared object: a new Error per call captures
 * a stack trace, which measured as the client's largest single cost under load.
 */
const FINISHED = new Error("call finished");

/** What an attempt may watch instead of an AbortSignal: cheaper, same moment. */
export interface AbortHook {
  readonly aborted: boolean;
  /** Calls `fn` once when the call is aborted or ends; returns what unregisters it. */
  onAbort(fn: () => void): () => void;
}

export class CallScope implements AbortHook {
  private controller: AbortController | undefined;
  private reason: Error | undefined;
  private listeners: (() => void)[] | undefined;
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
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ended) this.controller.abort(this.reason ?? FINISHED);
    }
    return this.controller.signal;
  }

  onAbort(fn: () => void): () => void {
    if (this.ended) {
      fn();
      return () => {};
    }
    this.listeners ??= [];
    const list = this.listeners;
    list.push(fn);
    return () => {
      const i = list.indexOf(fn);
      if (i >= 0) list.splice(i, 1);
    };
  }

  private end(reason: Error): void {
    this.ended = true;
    this.reason = reason;
    this.controller?.abort(reason);
    const list = this.listeners;
    this.listeners = undefined;
    if (list) for (const fn of list) fn();
  }

  /** Kept in a field: AbortSignal's getter is slow, and the retry loop asks often. */
  private ended = false;

  get aborted(): boolean {
    return this.ended;
  }

  /** Milliseconds left (undefined: no deadline), at least 1. */
  remainingMs(): number | undefined {
    if (this.deadline === Number.POSITIVE_INFINITY) return undefined;
    return Math.max(1, Math.ceil(this.deadline - now()));
  }

  abort(cause: AbortCause): void {
    if (this.ended) return;
    this.cause = cause;
    this.end(new Error(`call ${cause}`));
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
      let off: (() => void) | undefined;
      const done = (): void => {
        clearTimeout(t);
        off?.();
        resolve();
      };
      const t = setTimeout(done, wait);
      off = this.onAbort(done);
    });
  }

  dispose(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.onUserAbort) this.userSignal?.removeEventListener("abort", this.onUserAbort);
    // Ends whatever may still run under this call (a stream the consumer stopped reading).
    if (!this.ended) this.end(FINISHED);
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
