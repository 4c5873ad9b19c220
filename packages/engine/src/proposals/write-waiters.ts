// Callers waiting for their proposal to apply, keyed by log index. The entry that applies at an
// index tells each waiter its fate: the same term means it is our entry (resolve with its
// answer); another term means another leader's entry replaced ours, so ours was never applied
// (a definite failure, safe to retry). Leadership lost, deadline passed, call cancelled or node
// stopped before the apply: the outcome is unknown (it may still commit).
import { performance } from "node:perf_hooks";
import { NotLeaderError, TimeoutError, UnavailableError } from "@d-engine/client";
import type { ApplyResult } from "@d-engine/storage";

interface Waiter {
  readonly term: number;
  readonly deadline: number;
  /** performance.now() at the proposal (for the propose-to-commit/apply latencies). */
  readonly proposedAt: number;
  resolve(r: ApplyResult | undefined): void;
  reject(e: Error): void;
  cleanup(): void;
}

export class WriteWaiters {
  private readonly byIndex = new Map<number, Waiter>();
  /** Told when a proposal applied, with the time it was proposed (the node's metrics). */
  onApplied: ((proposedAt: number) => void) | undefined;

  get size(): number {
    return this.byIndex.size;
  }

  /**
   * Waits for the entry proposed at (index, term). Resolves with its ApplyResult (undefined for
   * a membership change, which has none).
   */
  add(
    index: number,
    term: number,
    deadline: number,
    signal?: AbortSignal,
  ): Promise<ApplyResult | undefined> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => {
        if (this.byIndex.get(index) !== w) return;
        this.byIndex.delete(index);
        reject(new TimeoutError(`the call was cancelled before entry ${index} applied`, true));
      };
      const w: Waiter = {
        term,
        deadline,
        proposedAt: performance.now(),
        resolve,
        reject,
        cleanup: () => signal?.removeEventListener("abort", onAbort),
      };
      this.byIndex.set(index, w);
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** The entry at `index` with `term` applied (result undefined: no state machine answer). */
  settle(index: number, term: number, result: ApplyResult | undefined, leader: () => Leader): void {
    const w = this.byIndex.get(index);
    if (!w) return;
    this.byIndex.delete(index);
    w.cleanup();
    if (w.term === term) {
      this.onApplied?.(w.proposedAt);
      w.resolve(result);
      return;
    }
    const l = leader();
    w.reject(
      new NotLeaderError(
        l.id,
        l.address,
        `the write was not applied: a leader of term ${term} replaced it at index ${index} (proposed at term ${w.term}); retry`,
      ),
    );
  }

  /** Leadership was lost: every waiting write may or may not commit. */
  failAll(reason: string, outcomeUnknown = true): void {
    const all = [...this.byIndex.values()];
    this.byIndex.clear();
    for (const w of all) {
      w.cleanup();
      w.reject(new UnavailableError(reason, outcomeUnknown));
    }
  }

  /** Fails the waiters whose deadline passed. */
  sweep(now: number): void {
    for (const [index, w] of this.byIndex) {
      if (w.deadline > now) continue;
      this.byIndex.delete(index);
      w.cleanup();
      w.reject(new TimeoutError(`the write at index ${index} did not apply in time`, true));
    }
  }
}

export interface Leader {
  readonly id: number;
  readonly address: string;
}
