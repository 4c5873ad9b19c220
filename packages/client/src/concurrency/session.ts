// A session: one lease, kept alive in the background for as long as its holder lives. Locks and
// election candidacies are keys attached to the session's lease, so when the holder dies (or
// stops renewing) the server deletes them at the lease's end and the next waiter goes ahead.
// The session learns that its lease is lost from the lease keeper (the client's own monotonic
// deadline passed without a renewal) and ends: `signal` aborts, `ended` resolves, and every
// waiting acquire or campaign of the session fails with SessionEndedError.
import type { LeaseKeepAliveOptions } from "../lease/types.js";
import type { CallOptions } from "../types.js";
import type { CoordinationClient, CoordinationLeaseKeeper } from "./client.js";
import { SessionEndedError } from "./errors.js";

/** etcd's default session TTL: long enough to ride out a leader election and a GC pause. */
export const DEFAULT_SESSION_TTL_SECONDS = 60;

export interface SessionOptions extends CallOptions {
  /** The lease's time to live (default 60 s). A holder that dies frees its locks after this. */
  readonly ttlSeconds?: number;
  /** Adopt this existing lease instead of granting a new one (e.g. after a restart); its TTL is
   * the lease's own (ttlSeconds is ignored). */
  readonly leaseId?: number;
  /** Keep-alive tuning and the stall warning (the session handles loss itself). */
  readonly keepAlive?: Pick<LeaseKeepAliveOptions, "intervalMs" | "stallThresholdMs" | "onStall">;
}

export class Session {
  /** Aborts (with a SessionEndedError) when the session ends: lease lost or session closed. */
  readonly signal: AbortSignal;
  /** Resolves when the session ends, with why. */
  readonly ended: Promise<SessionEndedError>;
  private readonly controller = new AbortController();
  private endedWith: SessionEndedError | undefined;
  private resolveEnded: (e: SessionEndedError) => void = () => {};

  private constructor(
    readonly client: CoordinationClient,
    readonly leaseId: number,
    readonly ttlSeconds: number,
    /** The lease's keeper: its "renewed" and "stall" events, its current deadline. */
    readonly keeper: CoordinationLeaseKeeper,
  ) {
    this.signal = this.controller.signal;
    this.ended = new Promise((resolve) => {
      this.resolveEnded = resolve;
    });
    keeper.lost.then(
      (l) => this.end(l.reason, true),
      (e: unknown) => this.end(e instanceof Error ? e.message : String(e), true),
    );
  }

  /** Grants a lease (or adopts opts.leaseId) and starts keeping it alive. */
  static async create(client: CoordinationClient, opts: SessionOptions = {}): Promise<Session> {
    const call: CallOptions = {
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    };
    // A new lease, or an adopted one renewed once: that checks it exists and tells its TTL.
    const { id, ttlSeconds: ttl } =
      opts.leaseId === undefined
        ? await client.leases.grant(opts.ttlSeconds ?? DEFAULT_SESSION_TTL_SECONDS, call)
        : await client.leases.keepAliveOnce(opts.leaseId, call);
    return new Session(
      client,
      id,
      ttl,
      client.leases.keepAlive(id, { ...opts.keepAlive, ttlSeconds: ttl }),
    );
  }

  /** The lease id in hex: the last segment of every key this session queues with. */
  get leaseHex(): string {
    return this.leaseId.toString(16);
  }

  /** Whether the session has ended (lost or closed). */
  get isEnded(): boolean {
    return this.endedWith !== undefined;
  }

  /** Throws the SessionEndedError if the session has ended. */
  throwIfEnded(): void {
    if (this.endedWith) throw this.endedWith;
  }

  /**
   * Stops keeping the lease alive and (unless revoke is false) revokes it, which deletes every
   * key of the session at once: its locks are released and its candidacies withdrawn. With
   * revoke false the lease runs out by itself after its TTL (etcd's "orphan").
   */
  async close(opts: CallOptions & { readonly revoke?: boolean } = {}): Promise<void> {
    this.end("closed", false);
    await this.keeper.stop();
    // Revoke even a lease the client gave up on: the server may still hold it (the client only
    // lost touch), and revoking frees its keys now rather than at the end of its TTL.
    if (opts.revoke === false) return;
    try {
      await this.client.leases.revoke(this.leaseId, opts);
    } catch (e) {
      // Already gone (expired or revoked elsewhere): that is what closing wanted.
      if ((e as { kvCode?: string }).kvCode !== "lease-not-found") throw e;
    }
  }

  private end(reason: string, lost: boolean): void {
    if (this.endedWith) return;
    const err = new SessionEndedError(this.leaseId, reason, lost);
    this.endedWith = err;
    this.controller.abort(err);
    this.resolveEnded(err);
  }
}
