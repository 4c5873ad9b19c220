// Membership changes (Raft thesis chapter 4): learners, single-voter changes, joint consensus
// entered and left automatically or explicitly, one pending change at a time, and removing the
// leader itself.
import { describe, expect, it } from "vitest";
import { confChange } from "./confchange/codec.js";
import { isRaftError } from "./errors.js";
import { MemoryStorage } from "./log/storage.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drainAll,
  electNode,
  electSelf,
  newLeader,
  newNode,
  ofType,
  recordDeliveries,
  replyFrom,
  sentBy,
  settleUntil,
  takeReady,
  tickAndSettle,
} from "./testing/raft-fixtures.js";
import {
  type ConfChange,
  ConfChangeTransition,
  ConfChangeType,
  EMPTY_BYTES,
  EntryType,
  MessageType,
  message,
  type NodeId,
  StateRole,
} from "./types.js";

function errorOf(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** Adds node `id` to the cluster as a process that knows the current members, not itself. */
function startJoiner(c: MemoryCluster, id: NodeId, members: readonly NodeId[]): void {
  c.addNode(id, MemoryStorage.withMembers(members));
}

const applied = (c: MemoryCluster, id: NodeId) => c.node(id).applied.map((e) => fromAscii(e.data));

const config = (c: MemoryCluster, id: NodeId) => c.node(id).raw.status().config;

const joint = (changes: ConfChange["changes"], transition: ConfChangeTransition): ConfChange => ({
  transition,
  changes,
  context: EMPTY_BYTES,
});

describe("learners", () => {
  it("receive entries but do not count toward the commit", () => {
    const n = newLeader(1, { voters: [1, 2, 3], learners: [4] });
    n.raw.propose(ascii("x"));
    const msgs = sentBy(takeReady(n));
    expect(ofType(msgs, MessageType.App).map((m) => m.to)).toEqual([2, 3, 4]);
    // The leader plus the learner would be two of three, if the learner counted.
    replyFrom(n, msgs, [4]);
    expect(n.raw.raft.log.committed).toBe(1);
    replyFrom(n, msgs, [2]);
    expect(n.raw.raft.log.committed).toBe(2);
  });

  it("are not asked to vote and their votes do not count", () => {
    const n = newNode(1, { voters: [1, 2, 3], learners: [4] });
    n.raw.campaign();
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => m.to)).toEqual([2, 3]);
    // Self plus the learner would be two of three, if the learner counted.
    n.raw.step(message({ type: MessageType.VoteResp, from: 4, to: 1, term: 1 }));
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
  });

  it("never campaign", () => {
    const n = newNode(4, { voters: [1, 2, 3], learners: [4] });
    for (let t = 0; t < 100; t++) n.raw.tick();
    n.raw.campaign();
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.term).toBe(0);
    expect(drainAll(n)).toEqual([]);
  });

  it("apply the log in a cluster, and keep doing so while voters are down", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], learners: [4], seed: 61 });
    electNode(c, 1);
    c.node(1).raw.propose(ascii("a"));
    c.stabilize();
    expect(applied(c, 4)).toEqual(["a"]);
    // With 2 and 3 down the learner still gets the entry but cannot make it commit.
    c.isolate(2);
    c.isolate(3);
    c.partition([1], [4], false);
    c.node(1).raw.propose(ascii("b"));
    c.stabilize();
    expect(c.node(4).raw.raft.log.lastIndex()).toBe(c.node(1).raw.raft.log.lastIndex());
    expect(c.node(1).raw.raft.log.committed).toBe(2);
    expect(applied(c, 4)).toEqual(["a"]);
  });
});

describe("single changes", () => {
  it("add a voter: it catches up and then counts toward the quorum", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 62 });
    electNode(c, 1);
    c.node(1).raw.propose(ascii("before"));
    c.stabilize();
    startJoiner(c, 4, [1, 2, 3]);
    c.node(1).raw.proposeConfChange(confChange.addNode(4));
    c.stabilize();
    for (const id of [1, 2, 3, 4]) expect(config(c, id).voters).toEqual([1, 2, 3, 4]);
    expect(applied(c, 4)).toEqual(["before"]);
    // Four voters: a quorum is three. 1 and 4 alone cannot commit; with 2 they can.
    c.isolate(2);
    c.isolate(3);
    c.partition([1], [4], false);
    c.node(1).raw.propose(ascii("needs three"));
    c.stabilize();
    expect(applied(c, 1)).toEqual(["before"]);
    c.partition([1, 4], [2], false);
    c.stabilize();
    tickAndSettle(c, 1);
    expect(applied(c, 1)).toEqual(["before", "needs three"]);
  });

  it("remove a voter: the rest commit without it and it stops campaigning", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 63 });
    electNode(c, 1);
    c.node(1).raw.proposeConfChange(confChange.removeNode(3));
    c.stabilize();
    expect(config(c, 1).voters).toEqual([1, 2]);
    expect(config(c, 3).voters).toEqual([1, 2]);
    c.isolate(3);
    c.node(1).raw.propose(ascii("two of two"));
    c.stabilize();
    expect(applied(c, 2)).toEqual(["two of two"]);
    // Node 3 is not a voter any more: it never campaigns.
    const term = c.node(3).raw.raft.term;
    for (let t = 0; t < 50; t++) c.tick(3);
    c.stabilize();
    expect(c.node(3).raw.raft.term).toBe(term);
    expect(c.node(3).raw.raft.role).toBe(StateRole.Follower);
  });

  it("promote a learner to voter", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], learners: [4], seed: 64 });
    electNode(c, 1);
    c.node(1).raw.proposeConfChange(confChange.addNode(4));
    c.stabilize();
    expect(config(c, 1)).toMatchObject({ voters: [1, 2, 3, 4], learners: [] });
    // The promoted node may now lead.
    c.node(1).raw.transferLeader(4);
    c.stabilize();
    expect(c.leader()).toBe(4);
  });

  it("at most one change is pending: a second is refused until the first is applied", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 65 });
    electNode(c, 1);
    const lead = c.node(1).raw;
    lead.proposeConfChange(confChange.addLearner(4));
    const err = errorOf(() => lead.proposeConfChange(confChange.addLearner(5)));
    expect(isRaftError(err, "conf-change-rejected")).toBe(true);
    // Ordinary proposals are not blocked.
    expect(lead.propose(ascii("data")).kind).toBe("appended");
    c.stabilize();
    expect(lead.proposeConfChange(confChange.addLearner(5)).kind).toBe("appended");
    c.stabilize();
    expect(config(c, 1).learners).toEqual([4, 5]);
  });

  it("a malformed or impossible change is refused up front", () => {
    const n = newLeader(1);
    const removeAll = joint(
      [
        { type: ConfChangeType.RemoveNode, nodeId: 1 },
        { type: ConfChangeType.RemoveNode, nodeId: 2 },
        { type: ConfChangeType.RemoveNode, nodeId: 3 },
      ],
      ConfChangeTransition.Auto,
    );
    expect(
      isRaftError(
        errorOf(() => n.raw.proposeConfChange(removeAll)),
        "conf-change-rejected",
      ),
    ).toBe(true);
    // Leaving a joint state that was never entered.
    expect(
      isRaftError(
        errorOf(() => n.raw.proposeConfChange(confChange.leaveJoint())),
        "conf-change-rejected",
      ),
    ).toBe(true);
    expect(n.raw.raft.log.lastIndex()).toBe(1);
  });
});

describe("joint consensus", () => {
  /** Leader 1 of voters 1-3 proposes adding voters 4 and 5 at once (auto-leave joint). */
  function clusterEnteringJointWith4And5(): MemoryCluster {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 66 });
    electNode(c, 1);
    startJoiner(c, 4, [1, 2, 3]);
    startJoiner(c, 5, [1, 2, 3]);
    c.node(1).raw.proposeConfChange(
      joint(
        [
          { type: ConfChangeType.AddNode, nodeId: 4 },
          { type: ConfChangeType.AddNode, nodeId: 5 },
        ],
        ConfChangeTransition.Auto,
      ),
    );
    return c;
  }

  it("auto: enters the joint configuration, then leaves it by itself", () => {
    const c = clusterEnteringJointWith4And5();
    settleUntil(c, () => config(c, 1).votersOutgoing.length > 0);
    expect(config(c, 1)).toMatchObject({
      voters: [1, 2, 3, 4, 5],
      votersOutgoing: [1, 2, 3],
      autoLeave: true,
    });
    c.stabilize();
    for (const id of [1, 2, 3, 4, 5]) {
      expect(config(c, id)).toMatchObject({ voters: [1, 2, 3, 4, 5], votersOutgoing: [] });
    }
    // The leader proposed the leave itself: an empty conf change entry after the joint one.
    const ccs = c
      .node(1)
      .raw.raft.log.allEntries()
      .filter((e) => e.type === EntryType.ConfChange);
    expect(ccs.map((e) => e.data.length > 0)).toEqual([true, false]);
  });

  it("auto: a leave refused during a leadership transfer is retried once the transfer ends", () => {
    // Found by the simulator (seed 24757): the leave was only attempted when an entry was
    // applied, so with nothing else proposed the cluster stayed joint for good.
    const c = clusterEnteringJointWith4And5();
    // A transfer to an unreachable node stays in progress and refuses proposals, the leave too.
    c.isolate(2);
    c.node(1).raw.transferLeader(2);
    c.stabilize();
    expect(c.node(1).raw.raft.leadTransferee).toBe(2);
    expect(config(c, 1)).toMatchObject({ votersOutgoing: [1, 2, 3], autoLeave: true });
    // The transfer is abandoned after an election timeout; the next heartbeat tick leaves.
    for (let t = 0; t < 12; t++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raw.raft.leadTransferee).toBe(0);
    expect(c.node(1).raw.raft.role).toBe(StateRole.Leader);
    expect(config(c, 1)).toMatchObject({ voters: [1, 2, 3, 4, 5], votersOutgoing: [] });
  });

  it("explicit: stays joint, needs both majorities, and leaves on request", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 67 });
    electNode(c, 1);
    startJoiner(c, 4, [1, 2, 3]);
    const swap = joint(
      [
        { type: ConfChangeType.AddNode, nodeId: 4 },
        { type: ConfChangeType.RemoveNode, nodeId: 3 },
      ],
      ConfChangeTransition.JointExplicit,
    );
    c.node(1).raw.proposeConfChange(swap);
    c.stabilize();
    tickAndSettle(c, 3);
    expect(config(c, 1)).toMatchObject({
      voters: [1, 2, 4],
      votersOutgoing: [1, 2, 3],
      autoLeave: false,
    });
    // Nothing else may change while joint.
    expect(
      isRaftError(
        errorOf(() => c.node(1).raw.proposeConfChange(confChange.addLearner(5))),
        "conf-change-rejected",
      ),
    ).toBe(true);
    // 1 and 4 are a majority of the new voters but not of the old ones: no commit.
    c.isolate(2);
    c.isolate(3);
    c.partition([1], [4], false);
    c.node(1).raw.propose(ascii("joint"));
    c.stabilize();
    expect(applied(c, 1)).toEqual([]);
    c.heal();
    tickAndSettle(c, 1);
    expect(applied(c, 1)).toEqual(["joint"]);
    c.node(1).raw.proposeConfChange(confChange.leaveJoint());
    c.stabilize();
    for (const id of [1, 2, 4]) {
      expect(config(c, id)).toMatchObject({ voters: [1, 2, 4], votersOutgoing: [] });
    }
  });
});

describe("removing the leader", () => {
  it("the leader hands off with TimeoutNow, steps down, and the rest carry on", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 68 });
    electNode(c, 1);
    const seen = recordDeliveries(c);
    c.node(1).raw.proposeConfChange(confChange.removeNode(1));
    c.stabilize();
    const handoff = ofType(seen, MessageType.TimeoutNow);
    expect(handoff.map((m) => m.from)).toEqual([1]);
    const next = c.leader();
    expect(next).toBe(handoff[0]?.to);
    expect(c.node(1).raw.raft.role).toBe(StateRole.Follower);
    c.node(next as number).raw.propose(ascii("after"));
    c.stabilize();
    for (const id of [2, 3]) {
      expect(config(c, id).voters).toEqual([2, 3]);
      expect(applied(c, id)).toEqual(["after"]);
    }
  });

  it("a removed node's proposals are refused", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 69 });
    electNode(c, 1);
    c.node(1).raw.proposeConfChange(confChange.removeNode(1));
    c.stabilize();
    const err = errorOf(() => c.node(1).raw.propose(ascii("x")));
    expect(isRaftError(err, "proposal-dropped")).toBe(true);
  });

  it("with stepDownOnRemoval off the removed leader stays up but refuses proposals", () => {
    const n = newNode(1, { stepDownOnRemoval: false });
    electSelf(n);
    replyFrom(n, drainAll(n));
    drainAll(n);
    n.raw.proposeConfChange(confChange.removeNode(1));
    replyFrom(n, drainAll(n));
    drainAll(n);
    expect(n.raw.status().config.voters).toEqual([2, 3]);
    expect(n.raw.raft.role).toBe(StateRole.Leader);
    const err = errorOf(() => n.raw.propose(ascii("x")));
    expect(isRaftError(err, "proposal-dropped")).toBe(true);
  });
});

describe("removed during a campaign", () => {
  it("a candidate removed by a change it applies gives the campaign up (simulator seed 55148)", () => {
    const n = newNode(1, { voters: [1, 2, 3, 4, 5] });
    n.raw.campaign();
    const votes = ofType(drainAll(n), MessageType.Vote);
    expect(votes).toHaveLength(4);
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    // A committed change that removes this node is applied while the votes are in flight.
    n.raw.applyConfChange(confChange.removeNode(1));
    // Three of the four remaining voters grant: a majority of the new configuration.
    replyFrom(n, votes, [2, 3, 4]);
    expect(n.raw.raft.role).toBe(StateRole.Follower);
  });
});
