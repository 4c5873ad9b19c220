// The lease API: the same for the network client and the embedded engine's client. A lease is a
// time to live that keys can be attached to (put with `lease`); when it ends (revoked, or its
// time ran out on the leader's monotonic clock) its keys are deleted through the log, on every
// node at the same revision.
import type { CallOptions } from "../types.js";

export interface LeaseGrantOptions extends CallOptions {
  /** The lease id to use (absent or 0: the server chooses). */
  readonly id?: number;
}

export interface LeaseGrant {
  readonly id: number;
  /** The granted (or renewed) time to live. */
  readonly ttlSeconds: number;
}

export interface LeaseTimeToLiveOptions extends CallOptions {
  /** Also return the attached keys. */
  readonly keys?: boolean;
}

export interface LeaseTimeToLive {
  readonly id: number;
  /** Whole seconds left on the leader's clock; -1 if there is no such lease. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  /** The attached keys, if asked for (else empty). */
  readonly keys: readonly Uint8Array[];
}

export interface LeaseStatus {
  readonly id: number;
  readonly grantedTtlSeconds: number;
}

/** Why a keeper gave up on its lease. */
export interface LeaseLost {
  readonly reason: string;
}

/** The event loop stalled long enough to endanger the lease. */
export interface LeaseStall {
  /** How late a timer fired: the time the loop was blocked. */
  readonly stalledMs: number;
  /** Time left before the client's deadline when the loop woke up (negative: passed). */
  readonly remainingMs: number;
}

export interface LeaseKeepAliveOptions {
  /** The lease's TTL if known (otherwise learnt from the first keep-alive answer). */
  readonly ttlSeconds?: number;
  /** Time between keep-alives (default a third of the TTL). */
  readonly intervalMs?: number;
  /** A loop stall at least this long is reported (default a third of the TTL). */
  readonly stallThresholdMs?: number;
  /** Stops the keeper (as stop()). */
  readonly signal?: AbortSignal;
  /** Called once when the lease is lost (as keeper.on("lost")). */
  readonly onLost?: (lost: LeaseLost) => void;
  /** Called on each dangerous stall (as keeper.on("stall")). */
  readonly onStall?: (stall: LeaseStall) => void;
}

export type LeaseKeeperEvents = {
  /** The client can no longer vouch for the lease; the keeper has stopped. */
  lost: LeaseLost;
  /** The event loop stalled long enough to endanger the lease. */
  stall: LeaseStall;
  /** A keep-alive was answered: the lease is good until `deadlineMs` (keeper clock). */
  renewed: { readonly ttlSeconds: number; readonly deadlineMs: number };
};

/**
 * Keeps one lease alive in the background (a keep-alive every third of the TTL) until stop()
 * or the process exits (its timers do not hold the process open). The client's deadline is the
 * time it SENT the last answered keep-alive plus the TTL, on a monotonic clock: the server
 * cannot have expired the lease before it (the leader measures from a later moment), so until
 * then the holder may act as owner. When the deadline passes with no newer answer, or the
 * server says the lease is gone, the lease is declared lost at once.
 */
export interface LeaseKeeper {
  readonly id: number;
  /** Settles when the lease is lost (never if stop() came first). */
  readonly lost: Promise<LeaseLost>;
  /** The current deadline on the keeper's monotonic clock (undefined before the first answer). */
  readonly deadlineMs: number | undefined;
  /** Whether the keeper stopped (stop(), signal, or lost). */
  readonly stopped: boolean;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof LeaseKeeperEvents>(
    event: E,
    listener: (e: LeaseKeeperEvents[E]) => void,
  ): () => void;
  /** Stops sending keep-alives (the lease then runs out by itself unless revoked). */
  stop(): Promise<void>;
}

export interface LeaseApi {
  /** Grants a lease of `ttlSeconds`. */
  grant(ttlSeconds: number, opts?: LeaseGrantOptions): Promise<LeaseGrant>;
  /** Revokes a lease, deleting its keys; the revision of the deletion. */
  revoke(id: number, opts?: CallOptions): Promise<{ readonly revision: number }>;
  /** Renews a lease once (KvCommandError "lease-not-found" if it is gone). */
  keepAliveOnce(id: number, opts?: CallOptions): Promise<LeaseGrant>;
  /** The lease's remaining and granted time (ttlSeconds -1 if there is no such lease). */
  timeToLive(id: number, opts?: LeaseTimeToLiveOptions): Promise<LeaseTimeToLive>;
  /** Every lease, by id. */
  list(opts?: CallOptions): Promise<readonly LeaseStatus[]>;
  /** Keeps a lease alive in the background. */
  keepAlive(id: number, opts?: LeaseKeepAliveOptions): LeaseKeeper;
}
