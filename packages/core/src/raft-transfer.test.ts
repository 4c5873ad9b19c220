// Leadership transfer (Raft thesis §3.10): the leader brings the target up to date, then tells it
// to campaign at once with TimeoutNow; the target's campaign overrides leader stickiness.
import { describe, expect, it } from "vitest";
import { confChange, encodeConfChange } from "./confchange/codec.js";
import { isRaftError, type RaftError } from "./errors.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  electNode,
  entriesWithTerms,
  newNode,
  ofType,
  recordDeliveries,
  sentBy,
  takeReady,
  tickAndSettle,
} from "./testing/raft-fixtures.js";
import {
  type Entry,
  EntryType,
  MessageType,
  message,
  NONE,
  type NodeId,
  StateRole,
} from "./types.js";

function proposeError(c: MemoryCluster, id: NodeId): RaftError | undefined {
  try {
    c.node(id).raw.propose(ascii("x"));
  } catch (e) {
    if (isRaftError(e)) return e;
    throw e;
  }
  return undefined;
}

describe("leadership transfer", () => {
  it("brings a lagging target up to date first, then sends it TimeoutNow", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 81 });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(ascii(`e${i}`));
    c.stabilize();
    const last = c.node(1).raw.raft.log.lastIndex();
    expect(c.node(3).raw.raft.log.lastIndex()).toBeLessThan(last);
    c.heal();
    const seen = recordDeliveries(c);
    c.node(1).raw.transferLeader(3);
    expect(c.node(1).raw.status().leadTransferee).toBe(3);
    c.stabilize();
    const caughtUp = seen.findIndex(
      (m) => m.type === MessageType.AppResp && m.from === 3 && !m.reject && m.index === last,
    );
    const timeoutNow = seen.findIndex((m) => m.type === MessageType.TimeoutNow);
    expect(caughtUp).toBeGreaterThanOrEqual(0);
    expect(timeoutNow).toBeGreaterThan(caughtUp);
    expect(ofType(seen, MessageType.TimeoutNow).map((m) => [m.from, m.to])).toEqual([[1, 3]]);
    expect(c.leader()).toBe(3);
    expect(c.node(3).raw.raft.term).toBe(term + 1);
    expect(c.node(1).raw.leader).toBe(3);
  });

  it("sends TimeoutNow at once to a target that is already up to date", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 82 });
    electNode(c, 1);
    c.node(1).raw.transferLeader(2);
    c.processReady(1);
    expect(c.queue.map((m) => [m.type, m.to])).toEqual([[MessageType.TimeoutNow, 2]]);
  });

  it("the target wins although the other followers are in the old leader's lease", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 83 });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    // An ordinary campaign by 2 now goes nowhere: 3 still hears from leader 1.
    c.node(2).raw.campaign();
    c.stabilize();
    expect(c.leader()).toBe(1);
    expect(c.node(3).raw.raft.term).toBe(term);
    tickAndSettle(c, 1); // the next heartbeat brings 2 back to following 1
    expect(c.node(2).raw.leader).toBe(1);
    // The transfer campaign is marked as such and overrides stickiness.
    c.node(1).raw.transferLeader(2);
    c.stabilize();
    expect(c.leader()).toBe(2);
    expect(c.node(3).raw.leader).toBe(2);
  });

  it("refuses proposals while transferring, and gives up after an election timeout", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 84 });
    electNode(c, 1);
    c.isolate(3);
    c.node(1).raw.transferLeader(3);
    const err = proposeError(c, 1);
    expect(err?.code).toBe("proposal-dropped");
    expect(err?.leaderHint).toBe(3);
    tickAndSettle(c, 9);
    expect(c.node(1).raw.status().leadTransferee).toBe(3);
    tickAndSettle(c, 1);
    expect(c.node(1).raw.status().leadTransferee).toBe(NONE);
    expect(c.leader()).toBe(1);
    expect(proposeError(c, 1)).toBeUndefined();
  });

  it("a transfer to a learner is ignored", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], learners: [4], seed: 85 });
    electNode(c, 1);
    const seen = recordDeliveries(c);
    c.node(1).raw.transferLeader(4);
    expect(c.node(1).raw.status().leadTransferee).toBe(NONE);
    c.stabilize();
    expect(ofType(seen, MessageType.TimeoutNow)).toEqual([]);
    expect(c.leader()).toBe(1);
    expect(proposeError(c, 1)).toBeUndefined();
  });

  it("a follower passes a transfer request on to the leader", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 86 });
    electNode(c, 1);
    c.node(2).raw.transferLeader(3);
    c.stabilize();
    expect(c.leader()).toBe(3);
  });

  it("a target with a committed, unapplied conf change campaigns once it has applied it", () => {
    // Typically the change that removed the old leader: its commit index and the TimeoutNow
    // arrive together, before the target's runtime applied the change.
    const n = newNode(2);
    const cc: Entry = {
      index: 2,
      term: 1,
      type: EntryType.ConfChange,
      data: encodeConfChange(confChange.addLearner(4)),
    };
    n.raw.step(
      message({
        type: MessageType.App,
        from: 1,
        to: 2,
        term: 1,
        entries: [...entriesWithTerms([1]), cc],
        commit: 2,
      }),
    );
    n.raw.step(message({ type: MessageType.TimeoutNow, from: 1, to: 2, term: 1 }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    takeReady(n); // persists and applies the conf change
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    expect(n.raw.raft.term).toBe(2);
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => [m.to, fromAscii(m.context)])).toEqual([
      [1, "transfer"],
      [3, "transfer"],
    ]);
  });
});
