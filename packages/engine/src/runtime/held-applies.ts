// Committed entries a follower holds back for a few milliseconds so that several writes' entries
// are applied in one state-machine transaction (options.ts, raft.followerApplyDelayMs).
//
// Why: a single client's write is one entry per Ready, and one LMDB write transaction per entry
// was the largest item in a follower's CPU per write (docs/benchmarks.md, session 9). On a
// 2-core machine running three nodes the followers' CPU is taken from the leader, whose apply is
// on the client's path. The leader never holds: its writers wait for their answers.
//
// Why it is safe:
// - Nothing a follower says depends on its state machine: it acknowledges entries once they are
//   durable in its log, before and regardless of applying them. A crash loses only the holding;
//   the log holds the entries and a restart applies them from the state machine's own index.
// - The core counts held entries as applied. Besides knowing which committed entries to hand
//   out next, it uses its applied index for membership changes (refusing a new one, or a
//   campaign, while one is unapplied) and, on a leader, for its uncommitted-size limit. Leaders
//   never hold, and membership changes are never held: a conf change (or any entry that is not
//   a plain command) applies at once, after everything held, in log order.
// - Reads wait for the state machine's own index (ReadQueue.serve gets kv.appliedIndex()), so a
//   linearizable read on a follower never sees a held-back state; one that waits makes the
//   runtime apply what it holds at once. Snapshots are taken at the runtime's applied index,
//   which moves only when entries are really applied.
// - Whatever else comes (a snapshot to install, a role other than follower, stopping) applies
//   what is held first, so entries are applied exactly once and in order.
import { type Entry, EntryType, StateRole } from "@d-engine/core";

/** Held entries are applied once this many are waiting, whatever the delay. */
export const MAX_HELD_ENTRIES = 128;

export class HeldApplies {
  private entries: Entry[] = [];

  /** How many entries are held. */
  get size(): number {
    return this.entries.length;
  }

  /** Adds `entries` (the next committed ones, in order); true once MAX_HELD_ENTRIES are held. */
  hold(entries: readonly Entry[]): boolean {
    for (const e of entries) this.entries.push(e);
    return this.entries.length >= MAX_HELD_ENTRIES;
  }

  /** Everything held, in order, and holds nothing after. */
  take(): Entry[] {
    const out = this.entries;
    this.entries = [];
    return out;
  }
}

/**
 * Whether a Ready's committed entries may be held rather than applied now: holding is on
 * (delayMs > 0), this node is a follower with no writer waiting on it, and every entry is a
 * plain command (a membership change must reach the core when it is applied).
 */
export function mayHold(
  delayMs: number,
  role: StateRole,
  waitingWriters: number,
  entries: readonly Entry[],
): boolean {
  if (delayMs <= 0 || role !== StateRole.Follower || waitingWriters > 0) return false;
  for (const e of entries) if (e.type !== EntryType.Normal) return false;
  return true;
}
