import { describe, expect, it } from "vitest";
import { VoteResult } from "../quorum/quorum.js";
import type { NodeId } from "../types.js";
import { Progress } from "./progress.js";
import {
  configToConfState,
  describeConfig,
  ProgressTracker,
  type TrackerConfig,
} from "./tracker.js";

interface Members {
  voters: NodeId[];
  outgoing?: NodeId[];
  learners?: NodeId[];
  learnersNext?: NodeId[];
  autoLeave?: boolean;
}

function config(m: Members): TrackerConfig {
  return {
    voters: { incoming: new Set(m.voters), outgoing: new Set(m.outgoing ?? []) },
    learners: new Set(m.learners ?? []),
    learnersNext: new Set(m.learnersNext ?? []),
    autoLeave: m.autoLeave ?? false,
  };
}

/** A tracker over `m` whose members have acknowledged `matches`. */
function tracker(m: Members, matches: Record<number, number> = {}): ProgressTracker {
  const t = new ProgressTracker(4, 0);
  t.config = config(m);
  const all = [...m.voters, ...(m.outgoing ?? []), ...(m.learners ?? [])];
  for (const id of all) {
    t.progress.set(
      id,
      new Progress({
        next: (matches[id] ?? 0) + 1,
        match: matches[id] ?? 0,
        maxInflight: 4,
        maxInflightBytes: 0,
        isLearner: (m.learners ?? []).includes(id),
      }),
    );
  }
  return t;
}

describe("ProgressTracker.committed", () => {
  it("is the index a majority of voters acknowledged", () => {
    expect(tracker({ voters: [1, 2, 3] }, { 1: 9, 2: 5, 3: 1 }).committed()).toBe(5);
  });

  it("learners never count toward the quorum", () => {
    // Only voter 1 of {1, 2, 3} is at 9; the learners 4 and 5 being at 9 must not help.
    const t = tracker({ voters: [1, 2, 3], learners: [4, 5] }, { 1: 9, 4: 9, 5: 9 });
    expect(t.committed()).toBe(0);
  });

  it("in a joint config both halves must have acknowledged", () => {
    const m = { voters: [1, 2, 3], outgoing: [1, 4, 5] };
    expect(tracker(m, { 1: 9, 2: 9, 3: 9, 4: 2, 5: 1 }).committed()).toBe(2);
    expect(tracker(m, { 1: 9, 2: 1, 3: 1, 4: 9, 5: 9 }).committed()).toBe(1);
    expect(tracker(m, { 1: 9, 2: 9, 3: 9, 4: 9, 5: 9 }).committed()).toBe(9);
  });
});

describe("ProgressTracker.quorumActive", () => {
  it("needs a recently active quorum of voters", () => {
    const t = tracker({ voters: [1, 2, 3], learners: [4, 5] });
    for (const id of [1, 4, 5]) (t.progress.get(id) as Progress).recentActive = true;
    expect(t.quorumActive()).toBe(false);
    (t.progress.get(2) as Progress).recentActive = true;
    expect(t.quorumActive()).toBe(true);
  });

  it("in a joint config needs both halves active", () => {
    const t = tracker({ voters: [1, 2, 3], outgoing: [4, 5, 6] });
    for (const id of [1, 2, 3]) (t.progress.get(id) as Progress).recentActive = true;
    expect(t.quorumActive()).toBe(false);
    for (const id of [4, 5]) (t.progress.get(id) as Progress).recentActive = true;
    expect(t.quorumActive()).toBe(true);
  });
});

describe("ProgressTracker.tallyVotes", () => {
  it("counts grants and rejections of voters and reports the result", () => {
    const t = tracker({ voters: [1, 2, 3] });
    t.recordVote(1, true);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: VoteResult.Pending });
    t.recordVote(2, false);
    t.recordVote(3, true);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 1, result: VoteResult.Won });
  });

  it("only the first vote of each voter counts", () => {
    const t = tracker({ voters: [1, 2, 3] });
    t.recordVote(2, false);
    t.recordVote(2, true);
    t.recordVote(3, false);
    expect(t.tallyVotes()).toEqual({ granted: 0, rejected: 2, result: VoteResult.Lost });
  });

  it("votes of learners and strangers are not counted", () => {
    const t = tracker({ voters: [1, 2, 3], learners: [4] });
    t.recordVote(1, true);
    t.recordVote(4, true);
    t.recordVote(9, true);
    expect(t.tallyVotes()).toEqual({ granted: 1, rejected: 0, result: VoteResult.Pending });
  });

  it("resetVotes forgets earlier votes", () => {
    const t = tracker({ voters: [1, 2, 3] });
    t.recordVote(1, false);
    t.resetVotes();
    t.recordVote(1, true);
    expect(t.tallyVotes().granted).toBe(1);
  });

  it("counts a voter of both halves once and needs both halves", () => {
    const t = tracker({ voters: [1, 2, 3], outgoing: [1, 4, 5] });
    t.recordVote(1, true);
    t.recordVote(2, true);
    expect(t.tallyVotes()).toEqual({ granted: 2, rejected: 0, result: VoteResult.Pending });
    t.recordVote(4, true);
    expect(t.tallyVotes()).toEqual({ granted: 3, rejected: 0, result: VoteResult.Won });
  });
});

describe("configToConfState", () => {
  it("lists every set sorted by id", () => {
    const cfg = config({
      voters: [9, 3, 7],
      outgoing: [8, 2, 9],
      learners: [6, 4],
      learnersNext: [8, 2],
      autoLeave: true,
    });
    expect(configToConfState(cfg)).toEqual({
      voters: [3, 7, 9],
      learners: [4, 6],
      votersOutgoing: [2, 8, 9],
      learnersNext: [2, 8],
      autoLeave: true,
    });
  });

  it("sorts numerically, not as strings", () => {
    expect(configToConfState(config({ voters: [10, 9, 100] })).voters).toEqual([9, 10, 100]);
  });

  it("describeConfig names the joint halves and learners", () => {
    const cfg = config({ voters: [1, 2], outgoing: [1], learners: [3], autoLeave: true });
    expect(describeConfig(cfg)).toBe("voters=(1 2)&&(1) learners=(3) autoleave");
  });
});

describe("ProgressTracker membership queries", () => {
  it("voterIds spans both halves; learnerIds includes learnersNext", () => {
    const t = tracker({ voters: [3, 1], outgoing: [2, 1], learners: [5], learnersNext: [2] });
    expect(t.voterIds()).toEqual([1, 2, 3]);
    expect(t.learnerIds()).toEqual([2, 5]);
    expect(t.isVoter(2)).toBe(true);
    expect(t.isVoter(5)).toBe(false);
  });

  it("isSingleton only for exactly one voter and no joint state", () => {
    expect(tracker({ voters: [1] }).isSingleton()).toBe(true);
    expect(tracker({ voters: [1], learners: [2] }).isSingleton()).toBe(true);
    expect(tracker({ voters: [1], outgoing: [1, 2] }).isSingleton()).toBe(false);
    expect(tracker({ voters: [1, 2] }).isSingleton()).toBe(false);
  });
});
