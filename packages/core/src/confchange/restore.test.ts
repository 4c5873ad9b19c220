import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "../rng.js";
import { configToConfState, EMPTY_TRACKER_CONFIG } from "../tracker/tracker.js";
import type { ConfState, NodeId } from "../types.js";
import { restoreConfig } from "./restore.js";

const restore = (cs: ConfState) =>
  restoreConfig(cs, 5, 4, 0, { config: EMPTY_TRACKER_CONFIG, progress: new Map() });

function cs(partial: Partial<ConfState>): ConfState {
  return {
    voters: [],
    learners: [],
    votersOutgoing: [],
    learnersNext: [],
    autoLeave: false,
    ...partial,
  };
}

describe("restoreConfig", () => {
  it("restores plain voters", () => {
    const c = cs({ voters: [1, 2, 3] });
    expect(configToConfState(restore(c).config)).toEqual(c);
  });

  it("restores voters and learners, marking learners' progress", () => {
    const c = cs({ voters: [1, 2], learners: [3, 4] });
    const r = restore(c);
    expect(configToConfState(r.config)).toEqual(c);
    expect(r.progress.get(3)?.isLearner).toBe(true);
    expect(r.progress.get(1)?.isLearner).toBe(false);
  });

  it("restores a joint config with learnersNext and autoLeave", () => {
    const c = cs({
      voters: [1, 2, 4],
      votersOutgoing: [1, 2, 3],
      learners: [5],
      learnersNext: [3],
      autoLeave: true,
    });
    const r = restore(c);
    expect(configToConfState(r.config)).toEqual(c);
    // 3 still votes in the outgoing half, so it is not a learner yet.
    expect(r.progress.get(3)?.isLearner).toBe(false);
    expect([...r.progress.keys()].sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it("restores a joint config whose halves are disjoint", () => {
    const c = cs({ voters: [4, 5], votersOutgoing: [1, 2, 3] });
    expect(configToConfState(restore(c).config)).toEqual(c);
  });

  it("gives every member a progress starting at the given last index", () => {
    const r = restore(cs({ voters: [1], learners: [2] }));
    expect(r.progress.get(1)?.next).toBe(5);
    expect(r.progress.get(2)?.next).toBe(5);
  });

  it("an empty ConfState restores an empty config", () => {
    expect(configToConfState(restore(cs({})).config)).toEqual(cs({}));
  });
});

/** A random valid ConfState over ids 1..8: every node gets one role at most. */
function randomConfState(rng: Rng): ConfState {
  const joint = rng.nextInt(2) === 1;
  const voters: NodeId[] = [];
  const outgoing: NodeId[] = [];
  const learners: NodeId[] = [];
  const learnersNext: NodeId[] = [];
  for (let id = 1; id <= 8; id++) {
    switch (rng.nextInt(joint ? 6 : 3)) {
      case 0:
        voters.push(id);
        break;
      case 1:
        learners.push(id);
        break;
      case 3: // both halves
        voters.push(id);
        outgoing.push(id);
        break;
      case 4: // outgoing only, leaving entirely
        outgoing.push(id);
        break;
      case 5: // outgoing voter that becomes a learner on leave
        outgoing.push(id);
        learnersNext.push(id);
        break;
      default: // not a member
    }
  }
  // A configuration needs an incoming voter, and a joint one an outgoing voter too.
  if (voters.length === 0) voters.push(9);
  if (joint && outgoing.length === 0) outgoing.push(10);
  return {
    voters,
    learners,
    votersOutgoing: outgoing,
    learnersNext,
    autoLeave: joint && rng.nextInt(2) === 1,
  };
}

const SEED = 4242;

describe(`restoreConfig randomized round trip (seed ${SEED})`, () => {
  it(`restoring a random ConfState yields the same ConfState (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let i = 0; i < 500; i++) {
      const c = randomConfState(rng);
      const r = restore(c);
      expect(configToConfState(r.config), `seed ${SEED} case ${i}`).toEqual(c);
      const members = new Set([...c.voters, ...c.votersOutgoing, ...c.learners]);
      expect(
        [...r.progress.keys()].sort((a, b) => a - b),
        `seed ${SEED} case ${i}`,
      ).toEqual([...members].sort((a, b) => a - b));
    }
  });
});
