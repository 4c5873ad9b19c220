// A node's Prometheus metrics (prom-client), in a registry of its own: several nodes in one
// process (tests, an application embedding a cluster) never collide, and nothing lands in
// prom-client's global registry behind the application's back.
//
// The hot paths pay for what they must and no more: a proposal carries the time it was proposed
// (set by WriteWaiters), the runtime stamps each Ready once (commit seen, apply done) and each
// settled proposal costs two histogram observations (FastHistogram: no allocation). Everything that is a level rather than an
// event (term, indexes, lag, pending calls, watchers, leases) is sampled at scrape time from
// callbacks, so it costs nothing between scrapes.
import { Counter, Gauge, Registry } from "prom-client";
import { FastHistogram } from "./fast-histogram.js";

/** The node's state, sampled when /metrics is scraped. */
export interface MetricsSources {
  term(): number;
  /** The leader this node knows of (0: none). */
  leader(): number;
  isLeader(): boolean;
  commitIndex(): number;
  appliedIndex(): number;
  pendingWrites(): number;
  pendingReads(): number;
  /** On the leader: each peer's lag (leader's last index minus the peer's match); else none. */
  replicationLag(): Iterable<readonly [peer: number, lag: number]>;
}

/** Names and label names of every metric (the dashboard and the tests use these). */
export const METRIC_NAMES = {
  proposeToCommit: "dengine_propose_to_commit_seconds",
  proposeToApply: "dengine_propose_to_apply_seconds",
  persist: "dengine_persist_seconds",
  applyBatch: "dengine_apply_batch_entries",
  applyDuration: "dengine_apply_seconds",
  term: "dengine_term",
  leaderChanges: "dengine_leader_changes_total",
  hasLeader: "dengine_has_leader",
  isLeader: "dengine_is_leader",
  commitIndex: "dengine_commit_index",
  appliedIndex: "dengine_applied_index",
  replicationLag: "dengine_replication_lag_entries",
  pendingWrites: "dengine_pending_writes",
  pendingReads: "dengine_pending_reads",
  watchers: "dengine_watchers",
  leases: "dengine_leases",
} as const;

/** Latencies from 50 µs (an fsync on a fast disk) to 10 s (a write stuck behind an election). */
const LATENCY_BUCKETS = [
  0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
  5, 10,
];
/** Entries per applied batch: one-by-one up to a large group commit. */
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096];

export class EngineMetrics {
  readonly registry: Registry;
  private readonly proposeToCommit: FastHistogram;
  private readonly proposeToApply: FastHistogram;
  private readonly persistSeconds: FastHistogram;
  private readonly applyBatch: FastHistogram;
  private readonly applySeconds: FastHistogram;
  private readonly leaderChanges: Counter;
  private sources: MetricsSources | undefined;
  private watcherCount: (() => number) | undefined;
  private leaseCount: (() => number) | undefined;
  /** performance.now() when the Ready being processed (with committed entries) came out. */
  private commitSeenAt = 0;
  /** performance.now() when its entries finished applying. */
  private appliedAt = 0;

  /** `registry`: share one (e.g. an application's); default: a registry of this node's own. */
  constructor(registry?: Registry) {
    const r = registry ?? new Registry();
    this.registry = r;
    const N = METRIC_NAMES;
    this.proposeToCommit = new FastHistogram(
      N.proposeToCommit,
      "Seconds from a proposal on this node (the leader) to its entry being seen committed.",
      LATENCY_BUCKETS,
      r,
    );
    this.proposeToApply = new FastHistogram(
      N.proposeToApply,
      "Seconds from a proposal on this node (the leader) to its entry being applied and answered.",
      LATENCY_BUCKETS,
      r,
    );
    this.persistSeconds = new FastHistogram(
      N.persist,
      "Seconds to persist one Ready (log entries and hard state, one fsync).",
      LATENCY_BUCKETS,
      r,
    );
    this.applyBatch = new FastHistogram(
      N.applyBatch,
      "Committed entries applied to the state machine in one batch.",
      BATCH_BUCKETS,
      r,
    );
    this.applySeconds = new FastHistogram(
      N.applyDuration,
      "Seconds to apply one batch of committed entries to the state machine.",
      LATENCY_BUCKETS,
      r,
    );
    this.leaderChanges = new Counter({
      name: N.leaderChanges,
      help: "Times the leader this node knows of changed (including to none).",
      registers: [r],
    });
    const self = this;
    const sampled = (name: string, help: string, read: (s: MetricsSources) => number) =>
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          if (self.sources) this.set(read(self.sources));
        },
      });
    sampled(N.term, "The node's current Raft term.", (s) => s.term());
    sampled(N.hasLeader, "1 if the node knows a leader, else 0.", (s) => (s.leader() ? 1 : 0));
    sampled(N.isLeader, "1 if this node is the leader, else 0.", (s) => (s.isLeader() ? 1 : 0));
    sampled(N.commitIndex, "The highest log index known committed.", (s) => s.commitIndex());
    sampled(N.appliedIndex, "The highest log index applied.", (s) => s.appliedIndex());
    sampled(N.pendingWrites, "Writes proposed and waiting to apply.", (s) => s.pendingWrites());
    sampled(N.pendingReads, "Linearizable and lease reads waiting.", (s) => s.pendingReads());
    new Gauge({
      name: N.replicationLag,
      help: "On the leader: entries each peer's log is behind the leader's last index.",
      labelNames: ["peer"],
      registers: [r],
      collect() {
        // A peer removed, or leadership lost: its series goes away rather than freezing.
        this.reset();
        if (!self.sources) return;
        for (const [peer, lag] of self.sources.replicationLag()) this.set({ peer }, lag);
      },
    });
    new Gauge({
      name: N.watchers,
      help: "Active watchers on this node.",
      registers: [r],
      collect() {
        if (self.watcherCount) this.set(self.watcherCount());
      },
    });
    new Gauge({
      name: N.leases,
      help: "Leases alive in the state machine.",
      registers: [r],
      collect() {
        if (self.leaseCount) this.set(self.leaseCount());
      },
    });
  }

  /** Where the sampled gauges read from (the runtime binds itself once it exists). */
  bind(sources: MetricsSources): void {
    this.sources = sources;
  }

  /** Feeds dengine_watchers (the watch hub registers its count here). */
  setWatcherCount(count: () => number): void {
    this.watcherCount = count;
  }

  /** Feeds dengine_leases. */
  setLeaseCount(count: () => number): void {
    this.leaseCount = count;
  }

  // ---------------------------------------------------------------- events (hot paths)

  /** One Ready was persisted; `startedAt` and `now` from performance.now(). */
  persisted(startedAt: number, now: number): void {
    this.persistSeconds.observe((now - startedAt) / 1000);
  }

  /** A Ready with committed entries came out at `now` (performance.now()). */
  commitSeen(now: number): void {
    this.commitSeenAt = now;
  }

  /** `entries` committed entries were applied, from `startedAt` until `now`. */
  applied(entries: number, startedAt: number, now: number): void {
    this.appliedAt = now;
    this.applyBatch.observe(entries);
    this.applySeconds.observe((now - startedAt) / 1000);
  }

  /**
   * A proposal made at `proposedAt` (performance.now()) was applied in the batch just reported
   * through commitSeen() and applied().
   */
  proposalApplied(proposedAt: number): void {
    this.proposeToCommit.observe(Math.max(0, this.commitSeenAt - proposedAt) / 1000);
    this.proposeToApply.observe(Math.max(0, this.appliedAt - proposedAt) / 1000);
  }

  leaderChanged(): void {
    this.leaderChanges.inc();
  }

  // ---------------------------------------------------------------- exposition

  /** The Prometheus text exposition of every metric in the registry. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  /** The Content-Type of text(). */
  get contentType(): string {
    return this.registry.contentType;
  }
}
