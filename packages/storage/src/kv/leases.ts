// Leases: a TTL, the time left of it, and the keys attached to it. The state machine never reads a
// clock and never decides that a lease expired: the leader measures each lease on its monotonic
// clock and proposes an expire command (or a client revokes), so every replica deletes the same
// keys at the same revision. What the log records is the time left (remainingMs) as of the last
// grant, renewal or leader checkpoint, and the index of the last grant or renewal (renewIndex),
// so a new leader continues from the checkpoint and an expire or checkpoint decided before a
// renewal changes nothing (packages/engine/README.md, "Leases"). Revocation itself (deleting the
// keys) is in engine.ts, which owns revisions.

import { u64Key, u64PairKey, u64PrefixedKey } from "./bytes.js";
import { invalidArgument, KvError } from "./errors.js";
import type { KvTableSet, LeaseRecord } from "./tables.js";
import type { LeaseInfo, LeaseTimeToLive } from "./types.js";

/** etcd's maximum lease TTL (seconds). */
export const MAX_LEASE_TTL = 9_000_000_000;

export class Leases {
  constructor(private readonly t: KvTableSet) {}

  get(id: number): LeaseRecord | undefined {
    return this.t.leases.get(u64Key(id));
  }

  /** Throws the answer's error unless `id` names an existing lease. */
  require(id: number): LeaseRecord {
    const lease = this.get(id);
    if (lease === undefined) throw new KvError("lease-not-found", `lease ${id} not found`);
    return lease;
  }

  /**
   * The id for a grant at log `index` that did not choose one: the index itself, or the next
   * free id above it (a client may have chosen that number). Deterministic on every replica,
   * unlike etcd's random ids.
   */
  generateId(index: number): number {
    let id = index;
    while (this.get(id) !== undefined) id++;
    return id;
  }

  static checkTtl(ttl: number): void {
    if (!Number.isSafeInteger(ttl) || ttl < 1 || ttl > MAX_LEASE_TTL) {
      throw invalidArgument(`lease TTL must be 1..${MAX_LEASE_TTL} seconds, got ${ttl}`);
    }
  }

  /** A new lease (or a renewed one) with its whole TTL left, granted or renewed at log `index`. */
  grant(id: number, ttl: number, nowMs: number, index: number): LeaseRecord {
    const ms = ttl * 1000;
    const lease: LeaseRecord = {
      id,
      ttl,
      expiryMs: nowMs + ms,
      remainingMs: ms,
      renewIndex: index,
    };
    this.t.leases.put(u64Key(id), lease);
    this.t.leaseExpiry.put(u64PairKey(lease.expiryMs, id), true);
    return lease;
  }

  /** Restarts the lease's TTL (log `index`, log time `nowMs`). */
  renew(lease: LeaseRecord, nowMs: number, index: number): LeaseRecord {
    this.t.leaseExpiry.delete(u64PairKey(lease.expiryMs, lease.id));
    return this.grant(lease.id, lease.ttl, nowMs, index);
  }

  /**
   * Records the leader's measure of the time left, unless the lease was renewed since the
   * leader measured (`renewIndex` differs): that renewal's whole TTL stands.
   */
  checkpoint(id: number, remainingMs: number, renewIndex: number, nowMs: number): boolean {
    const lease = this.get(id);
    if (lease === undefined || lease.renewIndex !== renewIndex) return false;
    const left = Math.min(remainingMs, lease.ttl * 1000);
    this.t.leaseExpiry.delete(u64PairKey(lease.expiryMs, id));
    const next: LeaseRecord = { ...lease, remainingMs: left, expiryMs: nowMs + left };
    this.t.leases.put(u64Key(id), next);
    this.t.leaseExpiry.put(u64PairKey(next.expiryMs, id), true);
    return true;
  }

  /** Forgets the lease (its keys must have been deleted). */
  remove(lease: LeaseRecord): void {
    this.t.leases.delete(u64Key(lease.id));
    this.t.leaseExpiry.delete(u64PairKey(lease.expiryMs, lease.id));
  }

  attach(id: number, key: Uint8Array): void {
    this.t.leaseKeys.put(u64PrefixedKey(id, key), true);
  }

  detach(id: number, key: Uint8Array): void {
    this.t.leaseKeys.delete(u64PrefixedKey(id, key));
  }

  /** The keys attached to lease `id`, in key order. */
  keys(id: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const [k] of this.t.leaseKeys.range(u64Key(id), u64Key(id + 1))) out.push(k.slice(8));
    return out;
  }

  list(): LeaseInfo[] {
    const out: LeaseInfo[] = [];
    for (const [, lease] of this.t.leases.range(u64Key(0), undefined)) out.push(lease);
    return out;
  }

  /**
   * Leases whose log-time expiry is at or before `nowMs`, soonest first (diagnostics and tests;
   * the leader decides on its monotonic clock instead).
   */
  expired(nowMs: number, limit: number): number[] {
    const out: number[] = [];
    for (const [k] of this.t.leaseExpiry.range(u64Key(0), u64PairKey(nowMs + 1, 0))) {
      if (out.length >= limit) break;
      out.push(readIdOfExpiryKey(k));
    }
    return out;
  }

  timeToLive(id: number, nowMs: number, withKeys: boolean): LeaseTimeToLive {
    const lease = this.get(id);
    if (lease === undefined) return { id, ttl: -1, grantedTtl: 0, keys: [] };
    return {
      id,
      ttl: Math.max(0, Math.floor((lease.expiryMs - nowMs) / 1000)),
      grantedTtl: lease.ttl,
      keys: withKeys ? this.keys(id) : [],
    };
  }
}

function readIdOfExpiryKey(k: Uint8Array): number {
  let id = 0;
  for (let i = 8; i < 16; i++) id = id * 256 + (k[i] as number);
  return id;
}
