// The order in which a Ready's entries and hard state must become durable.
//
// Membership changes take effect when applied, and a node applies only up to the commit index it
// knows. Raft's joint-consensus argument needs every node that could lead to use a configuration
// at most one change behind the newest committed one. A node whose durable log holds two
// membership changes beyond its durable commit index would restart with a configuration two
// steps old, and two steps apart the quorums can be disjoint: the simulator found exactly that
// (seed 68360: after a torn write kept the entries but lost the hard state, a restarted node led
// term 7 with the old voters while another led term 7 with the new ones).
//
// The rule (the "Append" invariant of etcd-io/etcd#7625): before an entry holding a membership
// change becomes durable, the commit index covering the previous membership change must be
// durable. The leader proposes a change only after applying the previous one, so every append
// carrying a change also carries a commit index past the previous change; persisting the entries
// in steps, with the hard state (its commit capped to what is durable) between them, keeps it.
import { type Entry, EntryType, type HardState } from "./types.js";

/** One step of a persist: make these entries and this hard state durable, then the next step. */
export interface PersistStep {
  readonly entries: readonly Entry[];
  readonly hardState?: HardState;
}

/**
 * Splits a Ready's entries and hard state into steps to make durable one after another (each
 * fully durable before the next begins). Without a membership change among the entries, or
 * without a new hard state, it is one step: the common case costs nothing.
 */
export function persistSteps(
  entries: readonly Entry[],
  hardState: HardState | undefined,
): PersistStep[] {
  if (!hardState || !entries.some((e) => e.type === EntryType.ConfChange)) {
    return [hardState ? { entries, hardState } : { entries }];
  }
  const steps: PersistStep[] = [];
  let start = 0;
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    if (e.type !== EntryType.ConfChange) continue;
    // Everything before this change, and a hard state whose commit covers as much of it as the
    // final commit does (never past what is durable by then).
    const commit = Math.min(hardState.commit, e.index - 1);
    steps.push({ entries: entries.slice(start, i), hardState: { ...hardState, commit } });
    start = i;
  }
  steps.push({ entries: entries.slice(start), hardState });
  return steps;
}
