// The leader's lease clock (design and bound: packages/engine/README.md, "Leases"). The state
// machine never decides that a lease ran out: the leader keeps a deadline per lease on its
// MONOTONIC clock and proposes a lease-expire command when one passes. Every
// checkpointIntervalMs it proposes a lease-checkpoint with each lease's remaining time, so a new
// leader continues from the last checkpoint instead of restarting every TTL:
//   - every node notes WHEN (its own monotonic clock) it applied the last checkpoint, and each
//     grant or renewal since: no timers, just timestamps;
//   - becoming leader: once every entry before its term's first entry has applied, each lease's
//     deadline = (when this node applied the lease's recorded state, or now if it does not know:
//     it restarted or installed a snapshot since) + its recorded remainingMs;
//   - applying a grant or keep-alive while leading: deadline = now + TTL;
//   - expire and checkpoint commands carry each lease's renewIndex (the log index of its last
//     grant or renewal) as the leader saw it: the state machine skips a lease renewed since.
// Time comes in as `now` (injected: performance.now() in the runtime, a manual clock in tests).
import type { ApplyResult, KvOperation, KvStateMachine, LeaseCheckpoint } from "@d-engine/storage";
import type { EngineLogger } from "../logger.js";

export interface LeaseTrackerDeps {
  readonly kv: KvStateMachine;
  readonly logger: EngineLogger;
  /** Milliseconds between checkpoints of the remaining times. */
  readonly checkpointIntervalMs: number;
  /** Proposes a command as this leader; resolves when it applied. */
  propose(op: KvOperation): Promise<unknown>;
}

/** Most leases in one expire or checkpoint command. */
export const LEASE_BATCH = 1_000;

export class LeaseTracker {
  /** Lease id -> monotonic deadline (ms). Only while leading and ready. */
  private readonly deadlines = new Map<number, number>();
  private leading = false;
  /** Entries up to this index precede this leader's term: apply them before measuring. */
  private readyIndex = 0;
  private ready = false;
  private nextCheckpoint = 0;
  private expiring = false;
  private checkpointing = false;
  /** When this node applied the last lease-checkpoint (undefined: none since it started). */
  private checkpointAppliedAt: number | undefined;
  /** When this node applied each grant or renewal since that checkpoint. */
  private readonly renewedAt = new Map<number, number>();

  constructor(private readonly d: LeaseTrackerDeps) {}

  /** Whether this node measures leases (leading, and caught up with its predecessors' log). */
  get active(): boolean {
    return this.ready;
  }

  /**
   * Leadership changed. `firstIndexOfTerm`: the index of the new leader's first entry (its
   * empty entry); everything before it must apply before the deadlines are computed.
   */
  onLeadership(leading: boolean, firstIndexOfTerm: number): void {
    if (leading === this.leading) return;
    this.leading = leading;
    this.ready = false;
    this.deadlines.clear();
    this.readyIndex = firstIndexOfTerm;
  }

  /** Applied commands: grants and renewals restart their lease's deadline at `now`. */
  onApplied(results: readonly ApplyResult[], now: number): void {
    this.noteApplied(results, now);
    // Becoming ready reads every lease's state after this batch: nothing more to do for it.
    if (!this.ready) {
      this.maybeReady(now);
      return;
    }
    for (const r of results) {
      if (r.duplicate) continue; // a remembered answer renewed nothing
      const res = r.response;
      switch (res.type) {
        case "lease-grant":
        case "lease-keep-alive":
          this.deadlines.set(res.id, now + res.ttl * 1000);
          break;
        case "put-with-ttl": {
          const lease = this.d.kv.lease(res.lease);
          if (lease) this.deadlines.set(lease.id, now + lease.ttl * 1000);
          break;
        }
        case "lease-expire":
          for (const id of res.expired) this.deadlines.delete(id);
          break;
        default:
          // Revocations are noticed lazily (the lease is gone when its deadline comes).
          break;
      }
    }
  }

  /** Starts measuring once caught up; proposes expiry and checkpoints when due. */
  onTick(now: number): void {
    if (!this.leading || !this.maybeReady(now)) return;
    this.expire(now);
    if (now >= this.nextCheckpoint) {
      this.nextCheckpoint = now + this.d.checkpointIntervalMs;
      this.checkpoint(now);
    }
  }

  /** The state machine's state was replaced (a snapshot): when it was recorded is unknown. */
  onRestore(): void {
    this.checkpointAppliedAt = undefined;
    this.renewedAt.clear();
  }

  /**
   * Every node, leading or not: when it applied the lease state it holds. A record's
   * remainingMs was measured no later than this node applied it, so measuring on from that
   * moment is never early; a checkpoint covers every earlier renewal (its time is later).
   */
  private noteApplied(results: readonly ApplyResult[], now: number): void {
    for (const r of results) {
      if (r.duplicate) continue;
      const res = r.response;
      switch (res.type) {
        case "lease-checkpoint":
          this.checkpointAppliedAt = now;
          this.renewedAt.clear();
          break;
        case "lease-grant":
        case "lease-keep-alive":
          this.renewedAt.set(res.id, now);
          break;
        case "put-with-ttl":
          this.renewedAt.set(res.lease, now);
          break;
        case "lease-expire":
          for (const id of res.expired) this.renewedAt.delete(id);
          break;
        default:
          break;
      }
    }
  }

  /** Starts measuring once every entry before this leader's term has applied. */
  private maybeReady(now: number): boolean {
    if (this.ready) return true;
    if (!this.leading || this.d.kv.appliedIndex() < this.readyIndex) return false;
    this.ready = true;
    for (const lease of this.d.kv.leases()) {
      const since = this.renewedAt.get(lease.id) ?? this.checkpointAppliedAt ?? now;
      this.deadlines.set(lease.id, Math.min(since, now) + lease.remainingMs);
    }
    // The first checkpoint comes one interval after taking over: sooner would record nothing
    // new (the remaining times were just read from the log).
    this.nextCheckpoint = now + this.d.checkpointIntervalMs;
    return true;
  }

  /** Milliseconds left on this leader's clock, or undefined if not measuring `id`. */
  remainingMs(id: number, now: number): number | undefined {
    if (!this.ready) return undefined;
    const d = this.deadlines.get(id);
    return d === undefined ? undefined : Math.max(0, d - now);
  }

  /** Whether this leader has seen the lease's time run out (its expire may not have applied). */
  isExpired(id: number, now: number): boolean {
    const left = this.remainingMs(id, now);
    return left !== undefined && left <= 0;
  }

  private expire(now: number): void {
    if (this.expiring) return;
    const ids: number[] = [];
    const renewIndexes: number[] = [];
    for (const [id, deadline] of this.deadlines) {
      if (deadline > now) continue;
      const lease = this.d.kv.lease(id);
      if (lease === undefined) {
        this.deadlines.delete(id); // revoked
        continue;
      }
      ids.push(id);
      renewIndexes.push(lease.renewIndex);
      if (ids.length >= LEASE_BATCH) break;
    }
    if (ids.length === 0) return;
    this.expiring = true;
    this.d
      .propose({ type: "lease-expire", ids, renewIndexes })
      .catch((e: unknown) =>
        this.d.logger.debug(`lease expiry not applied: ${(e as Error).message}`),
      )
      .finally(() => {
        this.expiring = false;
      });
  }

  private checkpoint(now: number): void {
    if (this.checkpointing || this.deadlines.size === 0) return;
    const batches: LeaseCheckpoint[][] = [[]];
    for (const [id, deadline] of this.deadlines) {
      const lease = this.d.kv.lease(id);
      if (lease === undefined) {
        this.deadlines.delete(id);
        continue;
      }
      let batch = batches.at(-1) as LeaseCheckpoint[];
      if (batch.length >= LEASE_BATCH) {
        batch = [];
        batches.push(batch);
      }
      batch.push({
        id,
        // Rounded up: a checkpoint never shortens a lease.
        remainingMs: Math.max(0, Math.ceil(deadline - now)),
        renewIndex: lease.renewIndex,
      });
    }
    const todo = batches.filter((b) => b.length > 0);
    if (todo.length === 0) return;
    this.checkpointing = true;
    Promise.all(
      todo.map((checkpoints) => this.d.propose({ type: "lease-checkpoint", checkpoints })),
    )
      .catch((e: unknown) =>
        this.d.logger.debug(`lease checkpoint not applied: ${(e as Error).message}`),
      )
      .finally(() => {
        this.checkpointing = false;
      });
  }
}
