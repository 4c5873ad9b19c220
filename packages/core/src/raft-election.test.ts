// Election extensions beyond the paper's §5.2: pre-vote (thesis §9.6), check-quorum and leader
// stickiness (thesis §4.2.3, §6.2), and the lease-read start-up quiet period.
import { describe, expect, it } from "vitest";
import { ReadOnlyOption } from "./config.js";
import { ascii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drain,
  electNode,
  newNode,
  ofType,
  recordDeliveries,
  sentBy,
  type TestNode,
  takeReady,
  tickAndSettle,
} from "./testing/raft-fixtures.js";
import { type Message, MessageType, message, NONE, StateRole } from "./types.js";

const heartbeatFrom = (from: number, term: number): Message =>
  message({ type: MessageType.Heartbeat, from, to: 1, term });

const voteFrom = (from: number, term: number, context?: Uint8Array): Message =>
  message({ type: MessageType.Vote, from, to: 1, term, ...(context ? { context } : {}) });

/** Steps `m` and returns what the node answers. */
function answer(n: TestNode, m: Message): Message[] {
  n.raw.step(m);
  const rd = drain(n);
  return rd ? sentBy(rd) : [];
}

describe("pre-vote", () => {
  it("a pre-candidate asks for the next term without moving to it or voting", () => {
    const n = newNode(1, { preVote: true, hardState: { term: 3, vote: 2, commit: 0 } });
    n.raw.campaign();
    expect(n.raw.raft.role).toBe(StateRole.PreCandidate);
    const rd = takeReady(n);
    expect(rd.hardState).toBeUndefined();
    const pre = ofType(sentBy(rd), MessageType.PreVote);
    expect(pre.map((m) => [m.to, m.term])).toEqual([
      [2, 4],
      [3, 4],
    ]);
    expect(n.raw.raft.hardState()).toEqual({ term: 3, vote: 2, commit: 0 });
    // Both refuse: back to follower, still at term 3.
    for (const from of [2, 3]) {
      n.raw.step(message({ type: MessageType.PreVoteResp, from, to: 1, term: 3, reject: true }));
    }
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.term).toBe(3);
  });

  it("a won pre-vote is followed by a real election at the next term", () => {
    const n = newNode(1, { preVote: true });
    n.raw.campaign();
    drain(n);
    n.raw.step(message({ type: MessageType.PreVoteResp, from: 2, to: 1, term: 1 }));
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    expect(n.raw.raft.term).toBe(1);
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it("granting a pre-vote changes neither the voter's term nor its vote", () => {
    const n = newNode(1, { preVote: true, hardState: { term: 1, vote: NONE, commit: 0 } });
    const out = answer(n, message({ type: MessageType.PreVote, from: 2, to: 1, term: 2 }));
    expect(out.map((m) => [m.type, m.term, m.reject])).toEqual([
      [MessageType.PreVoteResp, 2, false],
    ]);
    expect(n.raw.raft.hardState()).toEqual({ term: 1, vote: NONE, commit: 0 });
  });

  it("a partitioned node that keeps retrying cannot disrupt the cluster when it returns", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 21 });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    c.isolate(3);
    // Ten election timeouts and more: node 3 campaigns over and over, alone.
    tickAndSettle(c, 200);
    expect(c.node(3).raw.raft.role).toBe(StateRole.PreCandidate);
    expect(c.node(3).raw.raft.term).toBe(term);
    c.heal();
    tickAndSettle(c, 30);
    expect(c.leader()).toBe(1);
    for (const id of [1, 2, 3]) {
      expect(c.node(id).raw.raft.term).toBe(term);
      expect(c.node(id).raw.leader).toBe(1);
    }
  });

  it("without pre-vote the same returning node forces a new term on everyone", () => {
    // The contrast that shows what pre-vote prevents.
    const c = new MemoryCluster({
      voters: [1, 2, 3],
      seed: 21,
      config: { preVote: false, checkQuorum: false },
    });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    c.isolate(3);
    tickAndSettle(c, 200);
    const isolatedTerm = c.node(3).raw.raft.term;
    expect(isolatedTerm).toBeGreaterThan(term + 5);
    c.heal();
    tickAndSettle(c, 60);
    const lead = c.leader();
    expect(lead).toBeDefined();
    expect(c.node(lead as number).raw.raft.term).toBeGreaterThanOrEqual(isolatedTerm);
  });

  it("a pre-vote is ignored by nodes that hear from a live leader", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 22 });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    const seen = recordDeliveries(c);
    // Node 3 campaigns although the leader is fine (say its timer fired spuriously).
    c.node(3).raw.campaign();
    c.stabilize();
    expect(ofType(seen, MessageType.PreVote).map((m) => m.to)).toEqual([1, 2]);
    expect(ofType(seen, MessageType.PreVoteResp)).toEqual([]);
    expect(c.node(3).raw.raft.role).toBe(StateRole.PreCandidate);
    // The next heartbeat brings node 3 back; nobody's term moved.
    tickAndSettle(c, 1);
    expect(c.node(3).raw.raft.role).toBe(StateRole.Follower);
    expect(c.leader()).toBe(1);
    for (const id of [1, 2, 3]) expect(c.node(id).raw.raft.term).toBe(term);
  });

  it("a pre-vote from a node with a stale log is refused", () => {
    const n = newNode(1, {
      preVote: true,
      terms: [1, 1, 2],
      hardState: { term: 2, vote: NONE, commit: 0 },
    });
    const out = answer(
      n,
      message({ type: MessageType.PreVote, from: 3, to: 1, term: 3, index: 2, logTerm: 1 }),
    );
    expect(out.map((m) => [m.type, m.reject, m.term])).toEqual([
      [MessageType.PreVoteResp, true, 2],
    ]);
    expect(n.raw.raft.term).toBe(2);
  });
});

describe("check-quorum", () => {
  it("a leader that hears from no quorum for an election timeout steps down", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 23 });
    electNode(c, 1);
    c.isolate(1);
    // The first check may still count the followers' answers from the election.
    for (let t = 0; t < 9; t++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raw.raft.role).toBe(StateRole.Leader);
    for (let t = 9; t < 20; t++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raw.raft.role).toBe(StateRole.Follower);
    expect(c.node(1).raw.leader).toBe(NONE);
  });

  it("a leader that hears from a quorum keeps leading", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 24 });
    electNode(c, 1);
    const term = c.node(1).raw.raft.term;
    c.isolate(3); // one follower is down: 1 and 2 are still a quorum
    tickAndSettle(c, 100);
    expect(c.leader()).toBe(1);
    expect(c.node(1).raw.raft.term).toBe(term);
  });

  it("without check-quorum an isolated leader never steps down", () => {
    const c = new MemoryCluster({
      voters: [1, 2, 3],
      seed: 25,
      config: { checkQuorum: false },
    });
    electNode(c, 1);
    c.isolate(1);
    for (let t = 0; t < 100; t++) {
      c.tick(1);
      c.stabilize();
    }
    expect(c.node(1).raw.raft.role).toBe(StateRole.Leader);
  });
});

describe("leader stickiness", () => {
  it("a follower in its leader's lease ignores vote requests, except a transfer campaign", () => {
    const n = newNode(1, { checkQuorum: true });
    answer(n, heartbeatFrom(2, 1));
    expect(n.raw.leader).toBe(2);
    // Ignored entirely: no answer, no term change.
    expect(answer(n, voteFrom(3, 2))).toEqual([]);
    expect(n.raw.raft.hardState()).toEqual({ term: 1, vote: NONE, commit: 0 });
    // A TimeoutNow-driven campaign says so, and is granted despite the lease.
    const out = answer(n, voteFrom(3, 2, ascii("transfer")));
    expect(out.map((m) => [m.type, m.to, m.reject])).toEqual([[MessageType.VoteResp, 3, false]]);
    expect(n.raw.raft.hardState()).toEqual({ term: 2, vote: 3, commit: 0 });
  });

  it("once the leader has been silent for an election timeout, votes are granted again", () => {
    const n = newNode(1, { checkQuorum: true, seed: 3 });
    answer(n, heartbeatFrom(2, 1));
    // So the follower's own election timer does not fire first (seeded, so this holds).
    expect(n.raw.raft.randomizedElectionTimeout).toBeGreaterThan(10);
    for (let t = 0; t < 9; t++) n.raw.tick();
    expect(answer(n, voteFrom(3, 2))).toEqual([]);
    n.raw.tick();
    const out = answer(n, voteFrom(3, 2));
    expect(out.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResp, false]]);
  });

  it("without check-quorum there is no lease: a live leader's follower votes", () => {
    const n = newNode(1, { checkQuorum: false });
    answer(n, heartbeatFrom(2, 1));
    const out = answer(n, voteFrom(3, 2));
    expect(out.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResp, false]]);
  });

  it("with lease reads a freshly started node ignores votes for one election timeout", () => {
    // Before a crash it may have acknowledged a leader whose lease is still running.
    const n = newNode(1, {
      checkQuorum: true,
      readOnlyOption: ReadOnlyOption.LeaseBased,
      seed: 3,
    });
    expect(n.raw.raft.randomizedElectionTimeout).toBeGreaterThan(10);
    expect(answer(n, voteFrom(2, 1))).toEqual([]);
    for (let t = 0; t < 10; t++) n.raw.tick();
    const out = answer(n, voteFrom(2, 1));
    expect(out.map((m) => [m.type, m.reject])).toEqual([[MessageType.VoteResp, false]]);
  });
});
