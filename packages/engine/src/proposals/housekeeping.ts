// What the leader proposes by itself, through the log like any write (DESIGN.md principle 4):
//   - lease expiry and checkpoints: see ../leases/lease-tracker.ts (a monotonic clock);
//   - history compaction: keep `keepRevisions` revisions and/or `retentionMs` of history (the
//     larger of the two is kept). Retention needs the revision at a past time: the leader samples
//     the revision at each check (a new leader starts sampling afresh, so its first compaction
//     waits one retention period). A compaction is one small command, but applying it visits
//     every key written in the revisions it covers, on every node, in one go: at 10,000 writes a
//     second, one command per interval stalled all three nodes for over a second (an election;
//     issue 7's benchmark). So one command covers at most MAX_COMPACTION_STEP revisions, and when
//     more are due the next step follows at the next tick instead of the next interval.
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

/** The most revisions one compaction command covers (about 20 µs of apply per key written). */
export const MAX_COMPACTION_STEP = 2_000;

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
    const from = kv.compactRevision();
    if (!Number.isFinite(target) || target <= from || target <= 0) return;
    const behind = target - from > MAX_COMPACTION_STEP;
    const to = behind ? from + MAX_COMPACTION_STEP : target;
    this.compacting = true;
    this.d
      .propose({ type: "compaction", revision: to })
      .then(() => this.d.logger.debug(`history compacted to revision ${to}`))
      .catch((e: unknown) => this.d.logger.debug(`compaction not applied: ${(e as Error).message}`))
      .finally(() => {
        this.compacting = false;
        // More is due: the next step at the next tick.
        if (behind) this.lastCheck = Number.NEGATIVE_INFINITY;
      });
  }
}
