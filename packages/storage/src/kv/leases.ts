// Leases: a TTL counted in log time, and the keys attached to it. The state machine never reads a
// clock: a grant or keep-alive sets the expiry from its command's log time, and keys go away only
// when the leader proposes an expire command (or a client revokes), so every replica deletes the
// same keys at the same revision. Revocation itself (deleting the keys) is in engine.ts, which
// owns revisions.

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

  grant(id: number, ttl: number, nowMs: number): LeaseRecord {
    const lease: LeaseRecord = { id, ttl, expiryMs: nowMs + ttl * 1000 };
    this.t.leases.put(u64Key(id), lease);
    this.t.leaseExpiry.put(u64PairKey(lease.expiryMs, id), true);
    return lease;
  }

  /** Restarts the lease's TTL at `nowMs`. */
  renew(lease: LeaseRecord, nowMs: number): LeaseRecord {
    this.t.leaseExpiry.delete(u64PairKey(lease.expiryMs, lease.id));
    return this.grant(lease.id, lease.ttl, nowMs);
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

  /** Leases whose expiry is at or before `nowMs`, soonest first: what a leader proposes. */
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
