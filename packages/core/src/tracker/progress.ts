// What the leader knows about one follower's log, and how it is replicating to it.
import { Inflights } from "./inflights.js";

export enum ProgressState {
  /**
   * The leader does not know where the follower's log matches. It sends one append per
   * heartbeat interval and waits for the answer, backing off on rejection.
   */
  Probe = "probe",
  /** The follower is known to match; appends are pipelined up to the in-flight window. */
  Replicate = "replicate",
  /** The follower needs entries the leader compacted; a snapshot is on its way. */
  Snapshot = "snapshot",
}

export class Progress {
  /** The highest index known to be in the follower's log (0 if none is known). */
  match: number;
  /** The next index to send. Invariant: match < next. */
  next: number;
  state: ProgressState = ProgressState.Probe;
  /** In Snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from this follower since the last check-quorum round. */
  recentActive: boolean;
  /**
   * In Probe state: an append is outstanding, so wait for its answer (or a heartbeat reply).
   * In Replicate state: the in-flight window is full.
   */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(opts: {
    next: number;
    match?: number;
    maxInflight: number;
    maxInflightBytes: number;
    isLearner: boolean;
    recentActive?: boolean;
  }) {
    this.next = opts.next;
    this.match = opts.match ?? 0;
    this.inflights = new Inflights(opts.maxInflight, opts.maxInflightBytes);
    this.isLearner = opts.isLearner;
    this.recentActive = opts.recentActive ?? false;
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least the snapshot's entries.
    if (this.state === ProgressState.Snapshot) {
      const pending = this.pendingSnapshot;
      this.resetState(ProgressState.Probe);
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState(ProgressState.Probe);
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState(ProgressState.Replicate);
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState(ProgressState.Snapshot);
    this.pendingSnapshot = snapshotIndex;
  }

  /** Records that an append of `entries` entries weighing `bytes` was sent. */
  sentEntries(entries: number, bytes: number): void {
    if (this.state === ProgressState.Replicate) {
      if (entries > 0) {
        this.next += entries;
        this.inflights.add(this.next - 1, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === ProgressState.Probe && entries > 0) {
      this.msgAppFlowPaused = true;
    }
  }

  /** The follower acknowledged index `n`. Returns false if that is old news. */
  maybeUpdate(n: number): boolean {
    if (n <= this.match) return false;
    this.match = n;
    this.next = Math.max(this.next, n + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /**
   * The follower rejected an append at index `rejected`, hinting that its log may match up to
   * `matchHint`. Returns false if the rejection is stale (answers an older append).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === ProgressState.Replicate) {
      // In Replicate state a rejection of anything at or below match is stale.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    // In Probe state only the answer to the outstanding probe (next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Whether the leader should hold off sending appends to this follower. */
  isPaused(): boolean {
    if (this.state === ProgressState.Snapshot) return true;
    return this.msgAppFlowPaused;
  }

  clone(): Progress {
    const p = new Progress({
      next: this.next,
      match: this.match,
      maxInflight: this.inflights.maxCount,
      maxInflightBytes: this.inflights.maxBytes,
      isLearner: this.isLearner,
      recentActive: this.recentActive,
    });
    p.state = this.state;
    p.pendingSnapshot = this.pendingSnapshot;
    p.msgAppFlowPaused = this.msgAppFlowPaused;
    (p as { inflights: Inflights }).inflights = this.inflights.clone();
    return p;
  }

  toString(): string {
    let s = `${this.state} match=${this.match} next=${this.next}`;
    if (this.isLearner) s += " learner";
    if (this.isPaused()) s += " paused";
    if (this.pendingSnapshot > 0) s += ` pendingSnap=${this.pendingSnapshot}`;
    if (!this.recentActive) s += " inactive";
    if (this.inflights.length > 0) s += ` inflight=${this.inflights.length}`;
    if (this.inflights.full()) s += "[full]";
    return s;
  }
}
