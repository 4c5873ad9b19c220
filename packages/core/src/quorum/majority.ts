// Majority quorums over one voter set.
import type { NodeId } from "../types.js";
import { type AckedIndexer, type VoteLookup, VoteResult } from "./quorum.js";

/**
 * The largest index acknowledged by a majority of `voters`. An empty voter set returns
 * Infinity, so that in a joint configuration with an empty half the other half decides.
 */
export function majorityCommittedIndex(voters: ReadonlySet<NodeId>, acked: AckedIndexer): number {
  const n = voters.size;
  if (n === 0) return Number.POSITIVE_INFINITY;
  const indexes: number[] = [];
  for (const id of voters) indexes.push(acked(id) ?? 0);
  // Sort descending: the index at position (quorum - 1) is held by at least a quorum.
  indexes.sort((a, b) => b - a);
  return indexes[quorumSize(n) - 1] ?? 0;
}

/** Whether `voters` granted, rejected, or have not decided yet. An empty set wins. */
export function majorityVoteResult(voters: ReadonlySet<NodeId>, votes: VoteLookup): VoteResult {
  if (voters.size === 0) return VoteResult.Won;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  const q = quorumSize(voters.size);
  if (granted >= q) return VoteResult.Won;
  if (granted + missing >= q) return VoteResult.Pending;
  return VoteResult.Lost;
}

/** The number of voters that make a majority of `n`. */
export function quorumSize(n: number): number {
  return Math.floor(n / 2) + 1;
}
