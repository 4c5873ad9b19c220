import { describe, expect, it } from "vitest";
import type { Progress } from "../tracker/progress.js";
import {
  configToConfState,
  EMPTY_TRACKER_CONFIG,
  type ProgressMap,
  type TrackerConfig,
} from "../tracker/tracker.js";
import { type ConfChangeSingle, ConfChangeType, type ConfState, type NodeId } from "../types.js";
import { type ChangeResult, Changer, ConfChangeError } from "./changer.js";

const add = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.AddNode, nodeId });
const learner = (nodeId: NodeId): ConfChangeSingle => ({
  type: ConfChangeType.AddLearner,
  nodeId,
});
const remove = (nodeId: NodeId): ConfChangeSingle => ({ type: ConfChangeType.RemoveNode, nodeId });

const LAST_INDEX = 10;
const EMPTY: ChangeResult = { config: EMPTY_TRACKER_CONFIG, progress: new Map() };

const changer = (s: ChangeResult): Changer => new Changer(s.config, s.progress, LAST_INDEX, 4, 0);

/** Applies each change on its own with simple(), starting from an empty configuration. */
function build(...changes: ConfChangeSingle[]): ChangeResult {
  let s = EMPTY;
  for (const c of changes) s = changer(s).simple([c]);
  return s;
}

const state = (s: ChangeResult): ConfState => configToConfState(s.config);

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

/** A deep, comparable picture of a configuration and its progress map. */
function snapshotOf(config: TrackerConfig, progress: ProgressMap): unknown {
  return {
    conf: configToConfState(config),
    progress: [...progress].map(([id, pr]) => [id, pr.toString(), pr.isLearner]),
  };
}

describe("Changer.simple", () => {
  it("adds a voter with a fresh progress starting at the leader's last index", () => {
    const s = build(add(1));
    expect(state(s)).toEqual(cs({ voters: [1] }));
    const pr = s.progress.get(1) as Progress;
    expect(pr.next).toBe(LAST_INDEX);
    expect(pr.match).toBe(0);
    expect(pr.isLearner).toBe(false);
    // A new member counts as active, so check-quorum does not depose the leader at once.
    expect(pr.recentActive).toBe(true);
  });

  it("adds a learner", () => {
    const s = build(add(1), learner(2));
    expect(state(s)).toEqual(cs({ voters: [1], learners: [2] }));
    expect(s.progress.get(2)?.isLearner).toBe(true);
  });

  it("promotes a learner to voter, keeping its progress", () => {
    const s = build(add(1), learner(2));
    (s.progress.get(2) as Progress).maybeUpdate(7);
    const r = changer(s).simple([add(2)]);
    expect(state(r)).toEqual(cs({ voters: [1, 2] }));
    expect(r.progress.get(2)?.isLearner).toBe(false);
    expect(r.progress.get(2)?.match).toBe(7);
  });

  it("demotes a voter to learner, keeping its progress", () => {
    const s = build(add(1), add(2));
    (s.progress.get(2) as Progress).maybeUpdate(5);
    const r = changer(s).simple([learner(2)]);
    expect(state(r)).toEqual(cs({ voters: [1], learners: [2] }));
    expect(r.progress.get(2)?.isLearner).toBe(true);
    expect(r.progress.get(2)?.match).toBe(5);
  });

  it("removes a voter or learner together with its progress", () => {
    const s = build(add(1), add(2), learner(3));
    const r = changer(changer(s).simple([remove(2)])).simple([remove(3)]);
    expect(state(r)).toEqual(cs({ voters: [1] }));
    expect([...r.progress.keys()]).toEqual([1]);
  });

  it("removing an unknown node and adding an existing voter are no-ops", () => {
    const s = build(add(1), add(2));
    expect(state(changer(s).simple([remove(9)]))).toEqual(state(s));
    expect(state(changer(s).simple([add(2)]))).toEqual(state(s));
  });

  it("ignores node id 0 (etcd compatibility)", () => {
    const s = build(add(1));
    expect(state(changer(s).simple([add(0)]))).toEqual(cs({ voters: [1] }));
  });

  it("several learner changes with one voter change are still simple", () => {
    const s = build(add(1));
    const r = changer(s).simple([add(2), learner(3), learner(4)]);
    expect(state(r)).toEqual(cs({ voters: [1, 2], learners: [3, 4] }));
  });

  it("refuses to remove all voters", () => {
    const s = build(add(1), learner(2));
    expect(() => changer(s).simple([remove(1)])).toThrow(new ConfChangeError("removed all voters"));
  });

  it("refuses to change more than one voter without a joint config", () => {
    const s = build(add(1), add(2));
    const msg = "more than one voter changed without entering joint config";
    expect(() => changer(s).simple([add(3), add(4)])).toThrow(msg);
    // A swap changes two voters too.
    expect(() => changer(s).simple([remove(2), add(3)])).toThrow(msg);
  });

  it("refuses a simple change while joint", () => {
    const j = changer(build(add(1))).enterJoint(false, [add(2)]);
    expect(() => changer(j).simple([learner(3)])).toThrow(
      "can't apply simple config change in joint config",
    );
  });
});

describe("Changer.enterJoint / leaveJoint", () => {
  it("makes the current voters the outgoing half", () => {
    const s = build(add(1), add(2), add(3));
    const j = changer(s).enterJoint(false, [remove(3), add(4)]);
    expect(state(j)).toEqual(cs({ voters: [1, 2, 4], votersOutgoing: [1, 2, 3] }));
    // Node 3 keeps its progress: it still votes in the outgoing half.
    expect(j.progress.has(3)).toBe(true);
  });

  it("leaving drops the outgoing half and the progress of removed voters", () => {
    const s = build(add(1), add(2), add(3));
    const j = changer(s).enterJoint(false, [remove(3), add(4)]);
    const l = changer(j).leaveJoint();
    expect(state(l)).toEqual(cs({ voters: [1, 2, 4] }));
    expect([...l.progress.keys()].sort()).toEqual([1, 2, 4]);
  });

  it("a voter demoted while joint is in learnersNext until the joint state is left", () => {
    const s = build(add(1), add(2), add(3));
    const j = changer(s).enterJoint(false, [learner(3), add(4)]);
    expect(state(j)).toEqual(
      cs({ voters: [1, 2, 4], votersOutgoing: [1, 2, 3], learnersNext: [3] }),
    );
    // Still a voter of the outgoing half, so not marked as learner yet.
    expect(j.progress.get(3)?.isLearner).toBe(false);
    const l = changer(j).leaveJoint();
    expect(state(l)).toEqual(cs({ voters: [1, 2, 4], learners: [3] }));
    expect(l.progress.get(3)?.isLearner).toBe(true);
  });

  it("a learner that is not an outgoing voter becomes learner at once", () => {
    const s = build(add(1));
    const j = changer(s).enterJoint(false, [add(2), learner(5)]);
    expect(state(j)).toEqual(cs({ voters: [1, 2], votersOutgoing: [1], learners: [5] }));
  });

  it("records autoLeave when entering and clears it when leaving", () => {
    const s = build(add(1), add(2));
    const j = changer(s).enterJoint(true, [add(3)]);
    expect(j.config.autoLeave).toBe(true);
    expect(changer(j).leaveJoint().config.autoLeave).toBe(false);
    expect(changer(s).enterJoint(false, [add(3)]).config.autoLeave).toBe(false);
  });

  it("refuses to enter joint when already joint", () => {
    const j = changer(build(add(1))).enterJoint(false, [add(2)]);
    expect(() => changer(j).enterJoint(false, [add(3)])).toThrow("config is already joint");
  });

  it("refuses to make a zero-voter config joint", () => {
    expect(() => changer(EMPTY).enterJoint(false, [add(1)])).toThrow(
      "can't make a zero-voter config joint",
    );
  });

  it("refuses a joint config whose incoming half has no voters", () => {
    const s = build(add(1), add(2));
    expect(() => changer(s).enterJoint(false, [remove(1), remove(2)])).toThrow(
      "removed all voters",
    );
  });

  it("refuses to leave a non-joint config", () => {
    expect(() => changer(build(add(1))).leaveJoint()).toThrow("can't leave a non-joint config");
  });

  it("throws ConfChangeError, so callers can tell rejections from bugs", () => {
    expect(() => changer(build(add(1))).leaveJoint()).toThrow(ConfChangeError);
  });
});

describe("Changer never mutates its inputs", () => {
  it("simple, enterJoint and leaveJoint leave the given config and progress untouched", () => {
    const s = build(add(1), add(2), add(3), learner(4));
    const before = snapshotOf(s.config, s.progress);
    const prs = new Map(s.progress);
    changer(s).simple([learner(3)]);
    changer(s).simple([add(4)]);
    changer(s).simple([remove(2)]);
    const j = changer(s).enterJoint(true, [learner(3), add(4), remove(1)]);
    expect(snapshotOf(s.config, s.progress)).toEqual(before);
    // The very same Progress objects, with their learner flags unchanged.
    for (const [id, pr] of prs) expect(s.progress.get(id)).toBe(pr);

    const jointBefore = snapshotOf(j.config, j.progress);
    changer(j).leaveJoint();
    expect(snapshotOf(j.config, j.progress)).toEqual(jointBefore);
    expect(j.progress.get(3)?.isLearner).toBe(false);
  });

  it("a failed change leaves the inputs untouched", () => {
    const s = build(add(1), add(2));
    const before = snapshotOf(s.config, s.progress);
    expect(() => changer(s).simple([add(3), add(4)])).toThrow(ConfChangeError);
    expect(snapshotOf(s.config, s.progress)).toEqual(before);
  });
});
