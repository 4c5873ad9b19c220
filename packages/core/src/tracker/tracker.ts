// The leader's view of the cluster: the membership configuration, a Progress per member, and
// the votes of the current election.
import { jointCommittedIndex, jointVoteResult, jointVoterIds } from "../quorum/joint.js";
import { type JointConfig, VoteResult } from "../quorum/quorum.js";
import type { ConfState, NodeId } from "../types.js";
import type { Progress } from "./progress.js";

/** A membership configuration, possibly joint. */
export interface TrackerConfig {
  readonly voters: JointConfig;
  /** Learners: replicated to, never counted. Disjoint from both voter sets. */
  readonly learners: ReadonlySet<NodeId>;
  /**
   * Outgoing voters that become learners when the joint configuration is left. They cannot be
   * learners yet because they still vote in the outgoing half.
   */
  readonly learnersNext: ReadonlySet<NodeId>;
  readonly autoLeave: boolean;
}

export const EMPTY_TRACKER_CONFIG: TrackerConfig = {
  voters: { incoming: new Set(), outgoing: new Set() },
  learners: new Set(),
  learnersNext: new Set(),
  autoLeave: false,
};

export type ProgressMap = Map<NodeId, Progress>;

const sortIds = (ids: Iterable<NodeId>): NodeId[] => [...ids].sort((a, b) => a - b);

export function configToConfState(cfg: TrackerConfig): ConfState {
  return {
    voters: sortIds(cfg.voters.incoming),
    learners: sortIds(cfg.learners),
    votersOutgoing: sortIds(cfg.voters.outgoing),
    learnersNext: sortIds(cfg.learnersNext),
    autoLeave: cfg.autoLeave,
  };
}

export function describeConfig(cfg: TrackerConfig): string {
  let s = `voters=(${sortIds(cfg.voters.incoming).join(" ")})`;
  if (cfg.voters.outgoing.size > 0) s += `&&(${sortIds(cfg.voters.outgoing).join(" ")})`;
  if (cfg.learners.size > 0) s += ` learners=(${sortIds(cfg.learners).join(" ")})`;
  if (cfg.learnersNext.size > 0) s += ` learners_next=(${sortIds(cfg.learnersNext).join(" ")})`;
  if (cfg.autoLeave) s += " autoleave";
  return s;
}

export interface VoteTally {
  readonly granted: number;
  readonly rejected: number;
  readonly result: VoteResult;
}

export class ProgressTracker {
  config: TrackerConfig = EMPTY_TRACKER_CONFIG;
  progress: ProgressMap = new Map();
  private votes = new Map<NodeId, boolean>();

  constructor(
    readonly maxInflight: number,
    readonly maxInflightBytes: number,
  ) {}

  /** The largest index a quorum of voters has durably acknowledged. */
  committed(): number {
    return jointCommittedIndex(this.config.voters, (id) => this.progress.get(id)?.match);
  }

  /** Every member (voters then learners), in id order, with its progress. */
  visit(fn: (id: NodeId, pr: Progress) => void): void {
    for (const id of sortIds(this.progress.keys())) fn(id, this.progress.get(id) as Progress);
  }

  /** Whether a quorum of voters was recently active (check-quorum). */
  quorumActive(): boolean {
    return (
      jointVoteResult(this.config.voters, (id) => this.progress.get(id)?.recentActive) ===
      VoteResult.Won
    );
  }

  voterIds(): NodeId[] {
    return jointVoterIds(this.config.voters);
  }

  learnerIds(): NodeId[] {
    return sortIds([...this.config.learners, ...this.config.learnersNext]);
  }

  isVoter(id: NodeId): boolean {
    return this.config.voters.incoming.has(id) || this.config.voters.outgoing.has(id);
  }

  /** A cluster of exactly one voter (the node itself) commits on its own. */
  isSingleton(): boolean {
    return this.config.voters.incoming.size === 1 && this.config.voters.outgoing.size === 0;
  }

  resetVotes(): void {
    this.votes = new Map();
  }

  /** Records a vote; only the first vote of each voter counts. */
  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): VoteTally {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voterIds()) {
      const v = this.votes.get(id);
      if (v === true) granted++;
      else if (v === false) rejected++;
    }
    return {
      granted,
      rejected,
      result: jointVoteResult(this.config.voters, (id) => this.votes.get(id)),
    };
  }

  confState(): ConfState {
    return configToConfState(this.config);
  }
}
