// Leases for the transport's FakeApi: a map of id -> TTL with no clock (the engine's tests cover
// expiry). Enough to prove that every lease call, its options and its errors cross the wire.
import {
  type CallOptions,
  createLeaseKeeper,
  KvCommandError,
  type LeaseApi,
  type LeaseGrantOptions,
  NotLeaderError,
} from "@d-engine/client";

export class FakeLeases implements LeaseApi {
  readonly leases = new Map<number, number>();
  readonly calls: { method: string; opts: object | undefined }[] = [];
  /** When set, every call fails with NotLeaderError pointing there. */
  notLeader: { id: number; address: string } | undefined;
  private nextId = 100;
  revision = 0;

  private enter(method: string, opts: object | undefined): void {
    this.calls.push({ method, opts });
    if (this.notLeader) throw new NotLeaderError(this.notLeader.id, this.notLeader.address);
  }

  private need(id: number): number {
    const ttl = this.leases.get(id);
    if (ttl === undefined) throw new KvCommandError("lease-not-found", `lease ${id} not found`);
    return ttl;
  }

  async grant(ttlSeconds: number, opts?: LeaseGrantOptions) {
    this.enter("leaseGrant", opts);
    const id = opts?.id || this.nextId++;
    if (this.leases.has(id)) throw new KvCommandError("lease-exists", `lease ${id} exists`);
    this.leases.set(id, ttlSeconds);
    return { id, ttlSeconds };
  }

  async revoke(id: number, opts?: CallOptions) {
    this.enter("leaseRevoke", opts);
    this.need(id);
    this.leases.delete(id);
    return { revision: ++this.revision };
  }

  async keepAliveOnce(id: number, opts?: CallOptions) {
    this.enter("leaseKeepAliveOnce", opts);
    return { id, ttlSeconds: this.need(id) };
  }

  async timeToLive(id: number, opts?: CallOptions & { keys?: boolean }) {
    this.enter("leaseTimeToLive", opts);
    const ttl = this.leases.get(id);
    if (ttl === undefined) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    return {
      id,
      ttlSeconds: ttl,
      grantedTtlSeconds: ttl,
      keys: opts?.keys ? [new TextEncoder().encode(`key-of-${id}`)] : [],
    };
  }

  async list(opts?: CallOptions) {
    this.enter("leaseList", opts);
    return [...this.leases].map(([id, ttl]) => ({ id, grantedTtlSeconds: ttl }));
  }

  keepAlive(id: number) {
    return createLeaseKeeper(id, (i, call) => this.keepAliveOnce(i, call));
  }
}
