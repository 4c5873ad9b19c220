// RawNode.leaseReadIndex(): a lease read answered in the same call, without a Ready. It must say
// yes (the commit index) exactly when readIndex({ lease: true }) would be answered at once, and
// -1 in every case where the core would not trust its lease: expired, leadership transfer under
// way, a new leader that has not committed an entry of its term, a follower, lease reads off.
import { describe, expect, it } from "vitest";
import { ReadOnlyOption } from "./config.js";
import { isRaftError } from "./errors.js";
import { jointCommittedIndex } from "./quorum/joint.js";
import type { RawNode } from "./raw-node.js";
import { seededRng } from "./rng.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drain,
  drainAll,
  electSelf,
  newLeader,
  newNode,
  ofType,
  replyFrom,
  type TestNode,
} from "./testing/raft-fixtures.js";
import { type Message, MessageType, message, StateRole } from "./types.js";

const PER_REQUEST = { checkQuorum: true, leaseReads: true } as const;

/** A leader whose followers just acknowledged a heartbeat, so its lease holds. */
function leaderWithLease(spec: Parameters<typeof newLeader>[1] = PER_REQUEST): TestNode {
  const n = newLeader(1, spec);
  n.raw.tick();
  replyFrom(n, drainAll(n));
  drainAll(n);
  return n;
}

/** What readIndex({ lease: true }) answers in the very next Ready, or -1 if it did not. */
function answeredAtOnce(n: TestNode, ctx: string): number {
  n.raw.readIndex(ascii(ctx), { lease: true });
  const rd = drain(n);
  const rs = rd?.readStates.find((r) => fromAscii(r.context) === ctx);
  return rs ? rs.index : -1;
}

describe("leaseReadIndex", () => {
  it("is the commit index while the lease holds, and agrees with readIndex", () => {
    const n = leaderWithLease();
    expect(n.raw.leaseReadIndex()).toBe(1);
    n.raw.propose(ascii("x"));
    replyFrom(n, drainAll(n));
    drainAll(n);
    expect(n.raw.raft.log.committed).toBe(2);
    expect(n.raw.leaseReadIndex()).toBe(2);
    expect(answeredAtOnce(n, "same")).toBe(2);
  });

  it("does not run ahead of the commit index: an appended, uncommitted entry is not readable", () => {
    const n = leaderWithLease();
    n.raw.propose(ascii("pending"));
    drainAll(n); // appended locally, no follower acknowledged it
    expect(n.raw.raft.log.lastIndex()).toBe(2);
    expect(n.raw.leaseReadIndex()).toBe(1);
  });

  it("is -1 once the lease has expired (electionTick minus the margin after the acks)", () => {
    const n = leaderWithLease();
    for (let t = 0; t < 7; t++) n.raw.tick();
    drainAll(n); // heartbeats go out, their answers are lost
    expect(n.raw.leaseReadIndex()).toBe(1);
    n.raw.tick();
    drainAll(n);
    expect(n.raw.raft.role).toBe(StateRole.Leader);
    expect(n.raw.leaseReadIndex()).toBe(-1);
    expect(answeredAtOnce(n, "late")).toBe(-1);
  });

  it("is -1 while a leadership transfer is under way, and after it completes", () => {
    const n = leaderWithLease();
    n.raw.transferLeader(2);
    expect(n.raw.leaseReadIndex()).toBe(-1);
    const msgs = drainAll(n);
    // The transferee is caught up: the leader sends TimeoutNow; the lease is still refused.
    expect(ofType(msgs, MessageType.TimeoutNow).map((m) => m.to)).toEqual([2]);
    expect(n.raw.leaseReadIndex()).toBe(-1);
    expect(answeredAtOnce(n, "during")).toBe(-1);
    // The transferee wins: the old leader learns a higher term and follows.
    n.raw.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 2 }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.leaseReadIndex()).toBe(-1);
  });

  it("is -1 for a new leader whose lease holds but that has not committed an entry of its term", () => {
    const n = newNode(1, PER_REQUEST);
    electSelf(n);
    // Acknowledge heartbeats only (not the appends carrying the no-op): the lease holds, but the
    // commit index is not known to be current.
    n.raw.tick();
    const msgs = drainAll(n);
    replyFrom(n, ofType(msgs, MessageType.Heartbeat));
    drainAll(n);
    expect(n.raw.raft.leaseValid()).toBe(true);
    expect(n.raw.raft.log.committed).toBe(0);
    expect(n.raw.leaseReadIndex()).toBe(-1);
    // Once the no-op commits, the lease answers.
    replyFrom(n, ofType(msgs, MessageType.App));
    drainAll(n);
    expect(n.raw.raft.log.committed).toBe(1);
    expect(n.raw.leaseReadIndex()).toBe(1);
  });

  it("is -1 on a follower, however fresh its leader's heartbeats", () => {
    const n = newNode(2, PER_REQUEST);
    n.raw.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, commit: 0 }));
    drainAll(n);
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.lead).toBe(1);
    expect(n.raw.leaseReadIndex()).toBe(-1);
  });

  it("is -1 when lease reads are off, and on for every read with LeaseBased", () => {
    expect(leaderWithLease({ checkQuorum: true }).raw.leaseReadIndex()).toBe(-1);
    const all = leaderWithLease({ checkQuorum: true, readOnlyOption: ReadOnlyOption.LeaseBased });
    expect(all.raw.leaseReadIndex()).toBe(1);
  });

  it("is -1 as soon as a deposed leader sees a higher term", () => {
    const n = leaderWithLease();
    expect(n.raw.leaseReadIndex()).toBe(1);
    n.raw.step(message({ type: MessageType.App, from: 3, to: 1, term: 5, index: 0, logTerm: 0 }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.leaseReadIndex()).toBe(-1);
  });
});

describe("leaseReadIndex under random partitions, delays and transfers", () => {
  // Every node ticks in lockstep (no clock drift), messages are delayed, dropped and reordered at
  // random, links are cut and healed, leadership is transferred. Whenever any node's
  // leaseReadIndex() answers, (1) it must be at least every commit index in the cluster (a read
  // served there sees every write committed anywhere), and (2) readIndex({ lease: true }) on that
  // node must be answered at once with the same index.
  const SEEDS = Array.from({ length: 24 }, (_, i) => 7001 + i);

  it.each(SEEDS)("seed %i", (seed) => {
    const rng = seededRng(seed);
    const c = new MemoryCluster({ voters: [1, 2, 3], seed, config: PER_REQUEST });
    const ids = [1, 2, 3];
    let answered = 0;
    let ctx = 0;
    for (let step = 0; step < 1500; step++) {
      const r = rng.nextInt(100);
      if (r < 25) c.tick();
      else if (r < 65) deliverSome(c, rng);
      else if (r < 75) {
        const lead = c.leader();
        if (lead !== undefined) proposeIfAccepted(c.node(lead).raw, `v${step}`);
      } else if (r < 78) {
        const lead = c.leader();
        const to = ids[rng.nextInt(3)] as number;
        if (lead !== undefined && to !== lead) c.node(lead).raw.transferLeader(to);
      } else if (r < 81) {
        c.heal();
        const a = ids[rng.nextInt(3)] as number;
        c.isolate(a);
      } else if (r < 86) c.heal();
      for (const id of ids) while (c.processReady(id)) {}

      const maxCommitted = Math.max(...ids.map((id) => c.node(id).raw.raft.log.committed));
      for (const id of ids) {
        const n = c.node(id);
        expect(n.raw.raft.leaseValid(), `seed ${seed} step ${step} node ${id}`).toBe(
          referenceLeaseValid(n.raw.raft),
        );
        const idx = n.raw.leaseReadIndex();
        if (idx < 0) continue;
        answered++;
        expect(idx, `seed ${seed} step ${step} node ${id}`).toBeGreaterThanOrEqual(maxCommitted);
        expect(n.raw.raft.role).toBe(StateRole.Leader);
        // The core's own lease path answers the same read at once, with the same index.
        const key = `c${++ctx}`;
        n.raw.readIndex(ascii(key), { lease: true });
        const before = n.readStates.length;
        c.processReady(id);
        const got = n.readStates.slice(before).find((s) => fromAscii(s.context) === key);
        expect(got?.index, `seed ${seed} step ${step} node ${id}`).toBe(idx);
      }
    }
    // The run must have exercised the fast path, or it proved nothing.
    expect(answered).toBeGreaterThan(0);
  });
});

/**
 * leaseValid() as first written (the quorum's newest acknowledged send tick, by sorting through
 * jointCommittedIndex): the counting version in raft.ts must agree with it everywhere.
 */
function referenceLeaseValid(raft: RawNode["raft"]): boolean {
  if (raft.role !== StateRole.Leader || raft.leadTransferee !== 0) return false;
  const acks = (raft as unknown as { heartbeatAcks: Map<number, number> }).heartbeatAcks;
  const cfg = (raft as unknown as { cfg: { electionTick: number; leaseSafetyMarginTicks: number } })
    .cfg;
  const since = jointCommittedIndex(raft.tracker.config.voters, (id) =>
    id === raft.id ? raft.now : (acks.get(id) ?? Number.NEGATIVE_INFINITY),
  );
  return raft.now < since + cfg.electionTick - cfg.leaseSafetyMarginTicks;
}

/** Proposes unless the leader refuses (a transfer is under way). */
function proposeIfAccepted(raw: RawNode, v: string): void {
  try {
    raw.propose(ascii(v));
  } catch (e) {
    if (!isRaftError(e, "proposal-dropped")) throw e;
  }
}

/** Delivers a random part of the queue; of the rest, some is dropped and some delayed. */
function deliverSome(c: MemoryCluster, rng: ReturnType<typeof seededRng>): void {
  const batch = c.queue;
  c.queue = [];
  const later: Message[] = [];
  for (const m of batch) {
    const r = rng.nextInt(10);
    if (r < 6) c.deliver(m);
    else if (r < 9) later.push(m);
    // else: lost
  }
  c.queue.push(...later);
}
