// Quorum arithmetic: who has won a vote, and which log index a quorum has acknowledged.
// Pure functions over sets of voter ids, so they are easy to test on their own.
import type { NodeId } from "../types.js";

export enum VoteResult {
  /** Not decided yet: enough voters have not answered either way. */
  Pending = "pending",
  /** A quorum can no longer be reached. */
  Lost = "lost",
  /** A quorum granted. */
  Won = "won",
}

/** An acknowledged index per voter; undefined means the voter has acknowledged nothing. */
export type AckedIndexer = (id: NodeId) => number | undefined;

/** A vote per voter: true granted, false rejected, undefined not yet answered. */
export type VoteLookup = (id: NodeId) => boolean | undefined;

/** The two voter sets of a (possibly joint) configuration; `outgoing` is empty unless joint. */
export interface JointConfig {
  readonly incoming: ReadonlySet<NodeId>;
  readonly outgoing: ReadonlySet<NodeId>;
}
