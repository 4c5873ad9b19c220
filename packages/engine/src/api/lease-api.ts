// The lease operations served by this node. Grant, revoke and keep-alive are proposed through
// the log (leader only; a follower answers NotLeaderError naming the leader). Time-to-live and
// list are answered by the leader too: only it measures the leases' remaining times (its
// monotonic clock, ../leases/lease-tracker.ts), after a ReadIndex round so its state is current.
import { performance } from "node:perf_hooks";
import {
  type CallOptions,
  createLeaseKeeper,
  KvCommandError,
  type LeaseApi,
  type LeaseGrant,
  type LeaseGrantOptions,
  type LeaseKeepAliveOptions,
  type LeaseKeeper,
  type LeaseStatus,
  type LeaseTimeToLive,
  type LeaseTimeToLiveOptions,
} from "@d-engine/client";
import { checkLeaseId, checkLeaseTtl } from "@d-engine/client/wire";
import type { KvOperation, KvResponse } from "@d-engine/storage";
import { readError } from "../runtime/errors.js";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import { type Answer, proposeExpecting } from "./propose.js";
import type { SessionOption } from "./types.js";

export class NodeLeaseApi implements LeaseApi {
  constructor(private readonly rt: NodeRuntime) {}

  async grant(
    ttlSeconds: number,
    opts: LeaseGrantOptions & SessionOption = {},
  ): Promise<LeaseGrant> {
    checkLeaseTtl(ttlSeconds);
    if (opts.id) checkLeaseId(opts.id);
    const r = await this.write(
      "lease-grant",
      { type: "lease-grant", ttl: ttlSeconds, ...(opts.id ? { id: opts.id } : {}) },
      opts,
    );
    return { id: r.id, ttlSeconds: r.ttl };
  }

  async revoke(id: number, opts: CallOptions = {}): Promise<{ readonly revision: number }> {
    checkLeaseId(id);
    const r = await this.write("lease-revoke", { type: "lease-revoke", id }, opts);
    return { revision: r.revision };
  }

  async keepAliveOnce(id: number, opts: CallOptions = {}): Promise<LeaseGrant> {
    checkLeaseId(id);
    if (!this.rt.isLeader()) throw this.rt.notLeader();
    // Its time ran out on this leader's clock and its expire is on the way: a renewal now would
    // revive a lease whose holder may already have been told it is lost (as etcd refuses).
    if (this.rt.leaseTracker.isExpired(id, performance.now())) {
      throw new KvCommandError("lease-expired", `lease ${id} expired`);
    }
    // No session: a renewal applied twice renews twice, which is harmless.
    const r = await this.write(
      "lease-keep-alive",
      { type: "lease-keep-alive", id },
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      },
    );
    return { id: r.id, ttlSeconds: r.ttl };
  }

  async timeToLive(id: number, opts: LeaseTimeToLiveOptions = {}): Promise<LeaseTimeToLive> {
    checkLeaseId(id);
    return this.leaderRead(opts, () => {
      const kv = this.rt.ns.kv;
      const lease = kv.lease(id);
      if (lease === undefined) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
      const left = this.rt.leaseTracker.remainingMs(id, performance.now()) ?? lease.remainingMs;
      return {
        id,
        ttlSeconds: Math.floor(left / 1000),
        grantedTtlSeconds: lease.ttl,
        keys: opts.keys ? kv.leaseTimeToLive(id, { keys: true }).keys : [],
      };
    });
  }

  async list(opts: CallOptions = {}): Promise<readonly LeaseStatus[]> {
    return this.leaderRead(opts, () =>
      this.rt.ns.kv.leases().map((l) => ({ id: l.id, grantedTtlSeconds: l.ttl })),
    );
  }

  keepAlive(id: number, opts?: LeaseKeepAliveOptions): LeaseKeeper {
    checkLeaseId(id);
    return createLeaseKeeper(id, (i, call) => this.keepAliveOnce(i, call), opts);
  }

  private leaderRead<T>(opts: CallOptions, fn: () => T): Promise<T> {
    if (!this.rt.isLeader()) throw this.rt.notLeader();
    return this.rt.reader.readAt(
      "linearizable",
      () => {
        try {
          return fn();
        } catch (e) {
          throw readError(e);
        }
      },
      opts,
    );
  }

  /** Proposes `op` and returns the state machine's answer of the expected type. */
  private write<T extends KvResponse["type"]>(
    expect: T,
    op: KvOperation,
    opts: CallOptions & SessionOption,
  ): Promise<Answer<T>> {
    return proposeExpecting(this.rt, expect, op, opts);
  }
}
