// The lease keeper: keeps one lease alive from the client, and says when it can no longer vouch
// for it. The client's deadline is the monotonic time at which it SENT the last answered
// keep-alive plus the TTL: the leader renewed the lease when it applied that keep-alive, which is
// later, so the server cannot have expired the lease before the client's deadline. The keeper
// declares the lease lost as soon as that deadline passes without a newer answer (not after
// twice the TTL, as etcd's client does), or when the server answers that the lease is gone.
// A timer that fires late measures how long the event loop was blocked; a stall of at least one
// keep-alive interval (by default) is reported, since it can make the deadline pass unnoticed.
import type { CallOptions } from "../types.js";
import type {
  LeaseGrant,
  LeaseKeepAliveOptions,
  LeaseKeeper,
  LeaseKeeperEvents,
  LeaseLost,
} from "./types.js";

/** Time and timers, injectable for tests. `now` must be monotonic (ms). */
export interface KeeperClock {
  now(): number;
  setTimer(fn: () => void, ms: number): unknown;
  clearTimer(handle: unknown): void;
}

/** performance.now() and unref'd timers: a keeper never holds the process open. */
export const SYSTEM_KEEPER_CLOCK: KeeperClock = {
  now: () => performance.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    (t as { unref?: () => void }).unref?.();
    return t;
  },
  clearTimer: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/** Renews the lease once (a unary KeepAliveOnce, or one message on a keep-alive stream). */
export type KeepAliveSend = (id: number, opts: CallOptions) => Promise<LeaseGrant>;

/** The TTL assumed for timing before the first answer when the caller gave none. */
const FALLBACK_TTL_MS = 5_000;
/** The stall monitor's period: at most this, and at most a sixth of the TTL. */
const MAX_MONITOR_MS = 1_000;

export function createLeaseKeeper(
  id: number,
  send: KeepAliveSend,
  opts: LeaseKeepAliveOptions = {},
  clock: KeeperClock = SYSTEM_KEEPER_CLOCK,
): LeaseKeeper {
  const k = new Keeper(id, send, opts, clock);
  k.start();
  return k;
}

type Listener<E extends keyof LeaseKeeperEvents> = (e: LeaseKeeperEvents[E]) => void;

class Keeper implements LeaseKeeper {
  readonly lost: Promise<LeaseLost>;
  deadlineMs: number | undefined;
  stopped = false;
  private ttlMs: number | undefined;
  private resolveLost: (l: LeaseLost) => void = () => {};
  private readonly listeners: { [E in keyof LeaseKeeperEvents]: Set<Listener<E>> } = {
    lost: new Set(),
    stall: new Set(),
    renewed: new Set(),
  };
  private sendTimer: unknown;
  private lostTimer: unknown;
  private monitorTimer: unknown;
  private monitorDue = 0;
  private inFlight: AbortController | undefined;
  private onAbort: (() => void) | undefined;

  constructor(
    readonly id: number,
    private readonly send: KeepAliveSend,
    private readonly opts: LeaseKeepAliveOptions,
    private readonly clock: KeeperClock,
  ) {
    this.lost = new Promise((resolve) => {
      this.resolveLost = resolve;
    });
    if (opts.ttlSeconds !== undefined) this.ttlMs = opts.ttlSeconds * 1000;
    if (opts.onLost) this.listeners.lost.add(opts.onLost);
    if (opts.onStall) this.listeners.stall.add(opts.onStall);
  }

  start(): void {
    const signal = this.opts.signal;
    if (signal) {
      if (signal.aborted) {
        this.stopped = true;
        return;
      }
      this.onAbort = () => void this.stop();
      signal.addEventListener("abort", this.onAbort, { once: true });
    }
    this.armMonitor();
    this.sendNow();
  }

  on<E extends keyof LeaseKeeperEvents>(event: E, listener: Listener<E>): () => void {
    const set = this.listeners[event] as Set<Listener<E>>;
    set.add(listener);
    return () => set.delete(listener);
  }

  async stop(): Promise<void> {
    this.halt();
  }

  private get intervalMs(): number {
    return this.opts.intervalMs ?? (this.ttlMs ?? FALLBACK_TTL_MS) / 3;
  }

  private get stallThresholdMs(): number {
    return this.opts.stallThresholdMs ?? (this.ttlMs ?? FALLBACK_TTL_MS) / 3;
  }

  private sendNow(): void {
    if (this.stopped) return;
    this.sendTimer = undefined;
    const sentAt = this.clock.now();
    const ctl = new AbortController();
    this.inFlight = ctl;
    // An answer after the deadline is worthless: the call may not outlive it.
    const left = this.deadlineMs === undefined ? undefined : this.deadlineMs - sentAt;
    const call: CallOptions =
      left === undefined
        ? { signal: ctl.signal }
        : { signal: ctl.signal, timeoutMs: Math.max(1, Math.ceil(left)) };
    this.send(this.id, call).then(
      (answer) => {
        if (this.inFlight === ctl) this.inFlight = undefined;
        this.onAnswer(sentAt, answer);
      },
      (e: unknown) => {
        if (this.inFlight === ctl) this.inFlight = undefined;
        this.onError(e);
      },
    );
  }

  private onAnswer(sentAt: number, answer: LeaseGrant): void {
    if (this.stopped) return;
    this.ttlMs = answer.ttlSeconds * 1000;
    const deadline = sentAt + this.ttlMs;
    if (this.deadlineMs === undefined || deadline > this.deadlineMs) this.deadlineMs = deadline;
    if (this.checkDeadline()) return;
    this.emit("renewed", { ttlSeconds: answer.ttlSeconds, deadlineMs: this.deadlineMs });
    this.armLostTimer();
    const wait = Math.max(0, sentAt + this.intervalMs - this.clock.now());
    this.sendTimer = this.clock.setTimer(() => this.sendNow(), wait);
  }

  private onError(e: unknown): void {
    if (this.stopped) return;
    const code = (e as { kvCode?: string }).kvCode;
    if (code === "lease-not-found" || code === "lease-expired") {
      this.lose(`lease ${this.id} is gone: ${(e as Error).message}`);
      return;
    }
    if (this.checkDeadline()) return;
    // Leader changes, timeouts, unreachable nodes: try again soon, while the deadline allows.
    const retry = Math.min(500, Math.max(10, this.intervalMs / 4));
    this.sendTimer = this.clock.setTimer(() => this.sendNow(), retry);
  }

  /** Declares the lease lost if its deadline passed; returns whether it did. */
  private checkDeadline(): boolean {
    if (this.deadlineMs === undefined || this.clock.now() < this.deadlineMs) return false;
    this.lose(
      `lease ${this.id}: no keep-alive answer before the client's deadline (the last answered keep-alive was sent ${this.ttlMs} ms before it)`,
    );
    return true;
  }

  private armLostTimer(): void {
    if (this.lostTimer !== undefined) this.clock.clearTimer(this.lostTimer);
    const deadline = this.deadlineMs as number;
    this.lostTimer = this.clock.setTimer(
      () => {
        this.lostTimer = undefined;
        // A timer may fire a little early; a renewal may have moved the deadline meanwhile.
        if (!this.checkDeadline() && !this.stopped) this.armLostTimer();
      },
      Math.max(0, deadline - this.clock.now()),
    );
  }

  private monitorPeriod(): number {
    return Math.max(10, Math.min(MAX_MONITOR_MS, (this.ttlMs ?? FALLBACK_TTL_MS) / 6));
  }

  private armMonitor(): void {
    const period = this.monitorPeriod();
    this.monitorDue = this.clock.now() + period;
    this.monitorTimer = this.clock.setTimer(() => this.onMonitor(), period);
  }

  private onMonitor(): void {
    if (this.stopped) return;
    const lag = this.clock.now() - this.monitorDue;
    // Before the first answer there is no deadline yet to endanger.
    if (lag >= this.stallThresholdMs && this.deadlineMs !== undefined) {
      this.emit("stall", { stalledMs: lag, remainingMs: this.deadlineMs - this.clock.now() });
      if (this.checkDeadline()) return;
    }
    this.armMonitor();
  }

  private lose(reason: string): void {
    if (this.stopped) return;
    this.halt();
    const lost = { reason };
    this.resolveLost(lost);
    this.emit("lost", lost);
  }

  private halt(): void {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of [this.sendTimer, this.lostTimer, this.monitorTimer]) {
      if (t !== undefined) this.clock.clearTimer(t);
    }
    this.sendTimer = this.lostTimer = this.monitorTimer = undefined;
    this.inFlight?.abort();
    this.inFlight = undefined;
    if (this.onAbort) this.opts.signal?.removeEventListener("abort", this.onAbort);
  }

  private emit<E extends keyof LeaseKeeperEvents>(event: E, e: LeaseKeeperEvents[E]): void {
    for (const l of [...(this.listeners[event] as Set<Listener<E>>)]) {
      try {
        l(e);
      } catch {
        // A throwing listener must not stop the keeper or the other listeners.
      }
    }
  }
}
