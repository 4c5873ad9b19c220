// Linearizable reads (Raft thesis §6.4): ReadIndex confirmed by one heartbeat round shared by all
// waiting reads, postponed until a new leader commits its no-op, forwarded from followers, and
// lease reads that skip the round trip while the leader's lease holds.
import { describe, expect, it } from "vitest";
import { ReadOnlyOption } from "./config.js";
import { isRaftError } from "./errors.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drain,
  drainAll,
  electNode,
  electSelf,
  newLeader,
  newNode,
  ofType,
  recordDeliveries,
  replyFrom,
  type TestNode,
  takeReady,
} from "./testing/raft-fixtures.js";
import { type Message, MessageType, message, type ReadState, StateRole } from "./types.js";

const LEASE = { checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased } as const;

const reads = (rs: readonly ReadState[]) => rs.map((r) => [fromAscii(r.context), r.index]);

/** Drains the node and returns the read states and messages of every Ready. */
function collect(n: TestNode): { readStates: ReadState[]; msgs: Message[] } {
  const readStates: ReadState[] = [];
  const msgs: Message[] = [];
  for (let rd = drain(n); rd; rd = drain(n)) {
    readStates.push(...rd.readStates);
    msgs.push(...rd.messages, ...rd.messagesAfterPersist);
  }
  return { readStates, msgs };
}

describe("ReadIndex on the leader", () => {
  it("is answered with the commit index after one heartbeat round", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("x"));
    replyFrom(n, drainAll(n));
    drainAll(n);
    expect(n.raw.raft.log.committed).toBe(2);
    n.raw.readIndex(ascii("r1"));
    const first = collect(n);
    expect(first.readStates).toEqual([]);
    const hbs = ofType(first.msgs, MessageType.Heartbeat);
    expect(hbs.map((m) => [m.to, fromAscii(m.context)])).toEqual([
      [2, "r1"],
      [3, "r1"],
    ]);
    // One acknowledgement plus the leader itself is a quorum.
    replyFrom(n, hbs, [2]);
    expect(reads(collect(n).readStates)).toEqual([["r1", 2]]);
  });

  it("many reads waiting at once share one heartbeat round", () => {
    const n = newLeader(1);
    for (let i = 0; i < 10; i++) n.raw.readIndex(ascii(`r${i}`));
    const { msgs, readStates } = collect(n);
    expect(readStates).toEqual([]);
    const hbs = ofType(msgs, MessageType.Heartbeat);
    expect(hbs).toHaveLength(2); // one per follower, not one per read
    replyFrom(n, hbs);
    const answered = collect(n).readStates;
    expect(reads(answered)).toEqual(Array.from({ length: 10 }, (_, i) => [`r${i}`, 1]));
  });

  it("reads arriving during a round wait for the next round", () => {
    const n = newLeader(1);
    n.raw.readIndex(ascii("a"));
    const round1 = ofType(collect(n).msgs, MessageType.Heartbeat);
    n.raw.readIndex(ascii("b"));
    const round2 = ofType(collect(n).msgs, MessageType.Heartbeat);
    expect(round2.map((m) => fromAscii(m.context))).toEqual(["b", "b"]);
    // The first round's acks release only "a": "b" came after it was sent.
    replyFrom(n, round1);
    expect(reads(collect(n).readStates)).toEqual([["a", 1]]);
    replyFrom(n, round2);
    expect(reads(collect(n).readStates)).toEqual([["b", 1]]);
  });

  it("a new leader postpones reads until its no-op commits, then answers them", () => {
    const n = newNode(1);
    electSelf(n);
    n.raw.readIndex(ascii("early"));
    const { msgs, readStates } = collect(n);
    expect(readStates).toEqual([]);
    // No heartbeat round yet: the commit index is not known to be current.
    expect(ofType(msgs, MessageType.Heartbeat)).toEqual([]);
    replyFrom(n, msgs, [2]); // the no-op commits
    expect(n.raw.raft.log.committed).toBe(1);
    const after = collect(n);
    const hbs = ofType(after.msgs, MessageType.Heartbeat);
    expect(hbs.map((m) => fromAscii(m.context))).toEqual(["early", "early"]);
    replyFrom(n, hbs, [3]);
    expect(reads(collect(n).readStates)).toEqual([["early", 1]]);
  });

  it("a single-voter leader answers at once", () => {
    const n = newLeader(1, { voters: [1] });
    n.raw.readIndex(ascii("solo"));
    expect(reads(collect(n).readStates)).toEqual([["solo", 1]]);
  });

  it("pending reads of a deposed leader are reported as dropped", () => {
    const n = newLeader(1);
    n.raw.readIndex(ascii("lost"));
    collect(n);
    n.raw.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2 }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    const rd = takeReady(n);
    expect(rd.droppedReads.map(fromAscii)).toEqual(["lost"]);
    expect(rd.readStates).toEqual([]);
  });

  it("throws read-dropped when no leader is known", () => {
    const n = newNode(1);
    let err: unknown;
    try {
      n.raw.readIndex(ascii("nowhere"));
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, "read-dropped")).toBe(true);
  });
});

describe("ReadIndex on a follower", () => {
  it("is forwarded to the leader and answered with ReadIndexResp", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 41 });
    electNode(c, 1);
    c.node(1).raw.propose(ascii("v"));
    c.stabilize();
    const seen = recordDeliveries(c);
    c.node(2).raw.readIndex(ascii("f1"));
    c.stabilize();
    expect(ofType(seen, MessageType.ReadIndex).map((m) => [m.from, m.to])).toEqual([[2, 1]]);
    const resp = ofType(seen, MessageType.ReadIndexResp);
    expect(resp.map((m) => [m.to, m.index, fromAscii(m.context)])).toEqual([[2, 2, "f1"]]);
    expect(reads(c.node(2).readStates)).toEqual([["f1", 2]]);
    expect(c.node(1).readStates).toEqual([]);
  });
});

describe("lease reads", () => {
  it("require check-quorum: the configuration is refused otherwise", () => {
    let err: unknown;
    try {
      newNode(1, { checkQuorum: false, readOnlyOption: ReadOnlyOption.LeaseBased });
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, "invalid-config")).toBe(true);
  });

  it("are answered without a round trip while the lease holds, then fall back", () => {
    const n = newLeader(1, LEASE);
    // No heartbeat acknowledged yet: no lease, so this read needs a round.
    n.raw.readIndex(ascii("r0"));
    const r0 = collect(n);
    expect(r0.readStates).toEqual([]);
    replyFrom(n, ofType(r0.msgs, MessageType.Heartbeat));
    expect(reads(collect(n).readStates)).toEqual([["r0", 1]]);

    // Those acks dated the lease at this tick: reads are answered at once now.
    n.raw.readIndex(ascii("r1"));
    const r1 = collect(n);
    expect(reads(r1.readStates)).toEqual([["r1", 1]]);
    expect(ofType(r1.msgs, MessageType.Heartbeat)).toEqual([]);

    // Time passes with no acknowledgement (heartbeats go out, answers are lost). The lease lasts
    // electionTick (10) minus the safety margin (2) ticks.
    for (let t = 0; t < 7; t++) n.raw.tick();
    collect(n);
    n.raw.readIndex(ascii("r2"));
    expect(reads(collect(n).readStates)).toEqual([["r2", 1]]);
    n.raw.tick();
    collect(n);
    expect(n.raw.raft.role).toBe(StateRole.Leader);
    n.raw.readIndex(ascii("r3"));
    const r3 = collect(n);
    expect(r3.readStates).toEqual([]);
    const hbs = ofType(r3.msgs, MessageType.Heartbeat);
    expect(hbs.map((m) => fromAscii(m.context))).toEqual(["r3", "r3"]);
    replyFrom(n, hbs, [2]);
    expect(reads(collect(n).readStates)).toEqual([["r3", 1]]);
  });

  it("a leader transferring leadership holds no lease", () => {
    const n = newLeader(1, LEASE);
    n.raw.tick();
    replyFrom(n, drainAll(n));
    drainAll(n);
    n.raw.readIndex(ascii("ok"));
    expect(reads(collect(n).readStates)).toEqual([["ok", 1]]);
    n.raw.transferLeader(2);
    drainAll(n);
    n.raw.readIndex(ascii("during"));
    const { readStates, msgs } = collect(n);
    expect(readStates).toEqual([]);
    expect(ofType(msgs, MessageType.Heartbeat)).toHaveLength(2);
  });
});

describe("per-request lease reads (leaseReads)", () => {
  const PER_REQUEST = { checkQuorum: true, leaseReads: true } as const;

  /** A leader whose followers just acknowledged a heartbeat, so its lease holds. */
  function leaderWithLease(spec: Parameters<typeof newLeader>[1]) {
    const n = newLeader(1, spec);
    n.raw.tick();
    replyFrom(n, drainAll(n));
    drainAll(n);
    return n;
  }

  it("need check-quorum: the configuration is refused otherwise", () => {
    let err: unknown;
    try {
      newNode(1, { checkQuorum: false, leaseReads: true });
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, "invalid-config")).toBe(true);
  });

  it("a lease request is answered at once while an ordinary one still takes a round", () => {
    const n = leaderWithLease(PER_REQUEST);
    n.raw.readIndex(ascii("lease"), { lease: true });
    const leased = collect(n);
    expect(reads(leased.readStates)).toEqual([["lease", 1]]);
    expect(ofType(leased.msgs, MessageType.Heartbeat)).toEqual([]);

    n.raw.readIndex(ascii("safe"));
    const safe = collect(n);
    expect(safe.readStates).toEqual([]);
    expect(ofType(safe.msgs, MessageType.Heartbeat).map((m) => fromAscii(m.context))).toEqual([
      "safe",
      "safe",
    ]);
  });

  it("without leaseReads a lease request falls back to ReadIndex", () => {
    const n = leaderWithLease({ checkQuorum: true });
    n.raw.readIndex(ascii("asked"), { lease: true });
    const r = collect(n);
    expect(r.readStates).toEqual([]);
    expect(ofType(r.msgs, MessageType.Heartbeat)).toHaveLength(2);
  });

  it("an expired lease falls back to a heartbeat round", () => {
    const n = leaderWithLease(PER_REQUEST);
    // electionTick 10 minus the default margin of 2: the lease ends 8 ticks after the acks.
    for (let t = 0; t < 8; t++) n.raw.tick();
    collect(n);
    n.raw.readIndex(ascii("late"), { lease: true });
    const r = collect(n);
    expect(r.readStates).toEqual([]);
    expect(ofType(r.msgs, MessageType.Heartbeat).map((m) => fromAscii(m.context))).toEqual([
      "late",
      "late",
    ]);
  });

  it("a node that just started refuses votes for an election timeout", () => {
    const vote = message({
      type: MessageType.Vote,
      from: 2,
      to: 1,
      term: 5,
      index: 10,
      logTerm: 4,
    });
    const withLease = newNode(1, PER_REQUEST);
    withLease.raw.step(vote);
    expect(withLease.raw.raft.term).toBe(0);
    expect(ofType(drainAll(withLease), MessageType.VoteResp)).toEqual([]);

    const without = newNode(1, { checkQuorum: true });
    without.raw.step(vote);
    expect(without.raw.raft.term).toBe(5);
    const resp = ofType(drainAll(without), MessageType.VoteResp);
    expect(resp.map((m) => m.reject)).toEqual([false]);
  });
});
