import { type ConfState, ProgressState, type ProgressStatus } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { choosePromotions } from "./promoter.js";

const cs = (voters: number[], learners: number[], outgoing: number[] = []): ConfState => ({
  voters,
  learners,
  votersOutgoing: outgoing,
  learnersNext: [],
  autoLeave: false,
});
const pr = (match: number, recentActive = true): ProgressStatus => ({
  match,
  next: match + 1,
  state: ProgressState.Replicate,
  isLearner: true,
  recentActive,
  inflight: 0,
});

const choose = (
  confState: ConfState,
  progress: Record<number, ProgressStatus>,
  readOnly: number[] = [],
) =>
  choosePromotions({
    confState,
    progress: new Map(Object.entries(progress).map(([k, v]) => [Number(k), v])),
    lastIndex: 1000,
    maxLagEntries: 10,
    isReadOnly: (id) => readOnly.includes(id),
  });

describe("choosePromotions", () => {
  it("promotes one caught-up learner when that makes the voter count odd", () => {
    expect(choose(cs([1, 2], [3]), { 3: pr(995) })).toEqual([3]);
    expect(choose(cs([1, 2, 3, 4], [5, 6]), { 5: pr(1000), 6: pr(1000) })).toEqual([5]);
  });

  it("with an odd voter count waits for two ready learners and promotes both", () => {
    expect(choose(cs([1, 2, 3], [4]), { 4: pr(1000) })).toEqual([]);
    expect(choose(cs([1, 2, 3], [4, 5]), { 4: pr(1000), 5: pr(999) })).toEqual([4, 5]);
    expect(choose(cs([1, 2, 3], [4, 5]), { 4: pr(1000), 5: pr(500) })).toEqual([]);
  });

  it("never promotes read-only, lagging or silent learners", () => {
    expect(choose(cs([1, 2], [3]), { 3: pr(1000) }, [3])).toEqual([]);
    expect(choose(cs([1, 2], [3]), { 3: pr(989) })).toEqual([]);
    expect(choose(cs([1, 2], [3]), { 3: pr(1000, false) })).toEqual([]);
    expect(choose(cs([1, 2], [3]), {})).toEqual([]);
  });

  it("does nothing in a joint configuration", () => {
    expect(choose(cs([1, 2], [3], [1, 2, 4]), { 3: pr(1000) })).toEqual([]);
  });
});
