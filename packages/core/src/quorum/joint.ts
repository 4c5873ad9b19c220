// Joint quorums: during a membership change both the incoming and the outgoing voter sets must
// agree (Raft thesis, section 4.3).
import type { NodeId } from "../types.js";
import { majorityCommittedIndex, majorityVoteResult } from "./majority.js";
import { type AckedIndexer, type JointConfig, type VoteLookup, VoteResult } from "./quorum.js";

/** The largest index both halves have committed (the smaller of the two). */
export function jointCommittedIndex(cfg: JointConfig, acked: AckedIndexer): number {
  const a = majorityCommittedIndex(cfg.incoming, acked);
  const b = majorityCommittedIndex(cfg.outgoing, acked);
  return Math.min(a, b);
}

/** Won only if both halves won; lost if either lost. */
export function jointVoteResult(cfg: JointConfig, votes: VoteLookup): VoteResult {
  const a = majorityVoteResult(cfg.incoming, votes);
  const b = majorityVoteResult(cfg.outgoing, votes);
  if (a === b) return a;
  if (a === VoteResult.Lost || b === VoteResult.Lost) return VoteResult.Lost;
  return VoteResult.Pending;
}

/** Every voter of either half, sorted. */
export function jointVoterIds(cfg: JointConfig): NodeId[] {
  const ids = new Set<NodeId>([...cfg.incoming, ...cfg.outgoing]);
  return [...ids].sort((a, b) => a - b);
}

export function isJoint(cfg: JointConfig): boolean {
  return cfg.outgoing.size > 0;
}
