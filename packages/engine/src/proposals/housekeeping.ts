// What the leader proposes by itself, through the log like any write (DESIGN.md principle 4):
//   - lease expiry and checkpoints: see ../leases/lease-tracker.ts (a monotonic clock);
//   - history compaction: keep `keepRevisions` revisions and/or `retentionMs` of history (the
//     larger of the two is kept). Retention needs the revision at a past time: the leader samples
//     the revision at each check (a new leader starts sampling afresh, so its first compaction
//     waits one retention period). A compaction is one small command: it never blocks writes.
// One command of each kind is in flight at a time.
import type { KvOperation, KvStateMachine } from "@d-engine/storage";
import type { EngineLogger } from "../logger.js";
import type { ResolvedOptions } from "../options.js";

export interface HousekeepingDeps {
  readonly kv: KvStateMachine;
  readonly compaction: ResolvedOptions["compaction"];
  readonly logger: EngineLogger;
  isLeader(): boolean;
  /** Proposes a command as this leader; resolves when it applied. */
  propose(op: KvOperation): Promise<unknown>;
}

export class Housekeeping {
  private compacting = false;
  private lastCheck = 0;
  private samples: { readonly t: number; readonly rev: number }[] = [];

  constructor(private readonly d: HousekeepingDeps) {}

  onTick(now: number): void {
    if (!this.d.isLeader()) {
      this.samples = [];
      return;
    }
    this.maybeCompact(now);
  }

  private maybeCompact(now: number): void {
    const c = this.d.compaction;
    if (!c || this.compacting || now - this.lastCheck < c.intervalMs) return;
    this.lastCheck = now;
    const kv = this.d.kv;
    const rev = kv.revision();
    const targets: number[] = [];
    if (c.keepRevisions !== undefined) targets.push(rev - c.keepRevisions);
    if (c.retentionMs !== undefined) {
      this.samples.push({ t: now, rev });
      const cutoff = now - c.retentionMs;
      // The newest sample old enough; older ones are no longer needed.
      let at = -1;
      for (let i = 0; i < this.samples.length; i++) {
        if ((this.samples[i] as { t: number }).t <= cutoff) at = i;
      }
      if (at < 0) return; // not enough history observed yet: keep everything
      targets.push((this.samples[at] as { rev: number }).rev);
      this.samples = this.samples.slice(at);
    }
    const target = Math.min(...targets);
    if (!Number.isFinite(target) || target <= kv.compactRevision() || target <= 0) return;
    this.compacting = true;
    this.d
      .propose({ type: "compaction", revision: target })
      .then(() => this.d.logger.debug(`history compacted to revision ${target}`))
      .catch((e: unknown) => this.d.logger.debug(`compaction not applied: ${(e as Error).message}`))
      .finally(() => {
        this.compacting = false;
      });
  }
}
