// The rules of the Raft paper (Ongaro & Ousterhout, "In Search of an Understandable Consensus
// Algorithm", sections 5.1 to 5.4), one test per rule, checked on single nodes whose peers are
// played by the test. Pre-vote and check-quorum are off here (newNode's default): they are
// extensions with their own tests (raft-election.test.ts).
import { describe, expect, it } from "vitest";
import { ascii, fromAscii } from "./testing/bytes.js";
import {
  clusterWithLogs,
  drain,
  drainAll,
  electNode,
  electSelf,
  entriesWithTerms,
  logTerms,
  newLeader,
  newNode,
  ofType,
  replyFrom,
  sentBy,
  type TestNode,
  takeReady,
} from "./testing/raft-fixtures.js";
import { type Entry, type Message, MessageType, message, NONE, StateRole } from "./types.js";

const app = (fields: Partial<Message>): Message =>
  message({ type: MessageType.App, from: 2, to: 1, ...fields });

const voteFrom = (from: number, term: number, index = 0, logTerm = 0): Message =>
  message({ type: MessageType.Vote, from, to: 1, term, index, logTerm });

const ackFrom = (from: number, term: number, index: number): Message =>
  message({ type: MessageType.AppResp, from, to: 1, term, index });

/** Ticks until the node starts an election (its term moves); returns the tick count. */
function ticksUntilCampaign(n: TestNode): number {
  const from = n.raw.raft.term;
  for (let t = 1; t <= 100; t++) {
    n.raw.tick();
    if (n.raw.raft.term !== from) return t;
  }
  throw new Error("never campaigned");
}

describe("§5.1 terms", () => {
  it("a node starts as a follower at term 0 with no leader", () => {
    const n = newNode(1);
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.term).toBe(0);
    expect(n.raw.leader).toBe(NONE);
  });

  it.each([
    ["follower", (n: TestNode) => n.raw.step(app({ term: 1 }))],
    ["candidate", (n: TestNode) => n.raw.campaign()],
    ["leader", (n: TestNode) => electSelf(n)],
  ])("a %s that sees a higher term adopts it and follows the sender", (_role, setup) => {
    const n = newNode(1);
    setup(n);
    expect(n.raw.raft.term).toBe(1);
    n.raw.step(app({ from: 3, term: 2 }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.term).toBe(2);
    expect(n.raw.leader).toBe(3);
  });

  it("ignores a message from an older term", () => {
    const n = newNode(1, { hardState: { term: 2, vote: NONE, commit: 0 } });
    n.raw.step(app({ term: 1, entries: entriesWithTerms([1]) }));
    expect(n.raw.raft.log.lastIndex()).toBe(0);
    expect(n.raw.raft.term).toBe(2);
    expect(n.raw.leader).toBe(NONE);
    expect(n.raw.hasReady()).toBe(false);
  });
});

describe("§5.2 leader election", () => {
  it("a leader sends heartbeats to every peer each heartbeat interval", () => {
    const n = newLeader(1, { heartbeatTick: 3 });
    n.raw.tick();
    n.raw.tick();
    expect(ofType(drainAll(n), MessageType.Heartbeat)).toEqual([]);
    n.raw.tick();
    const hbs = ofType(drainAll(n), MessageType.Heartbeat);
    expect(hbs.map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
    ]);
  });

  it("a follower that times out becomes a candidate: term + 1, votes for itself, asks every voter", () => {
    const n = newNode(1, { voters: [1, 2, 3, 4, 5] });
    const timeout = n.raw.raft.randomizedElectionTimeout;
    expect(ticksUntilCampaign(n)).toBe(timeout);
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    const rd = takeReady(n);
    expect(rd.hardState).toEqual({ term: 1, vote: 1, commit: 0 });
    expect(rd.mustSync).toBe(true);
    // Vote requests report durable state (our vote), so they wait for the fsync.
    expect(rd.messages).toEqual([]);
    const votes = ofType(rd.messagesAfterPersist, MessageType.Vote);
    expect(votes.map((m) => [m.to, m.term])).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
  });

  it("a candidate whose election times out starts a new one at the next term", () => {
    const n = newNode(1);
    n.raw.campaign();
    drain(n);
    // One rejection and no answer from 3: undecided, like a split vote.
    n.raw.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 1, reject: true }));
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    const timeout = n.raw.raft.randomizedElectionTimeout;
    for (let t = 0; t < timeout - 1; t++) n.raw.tick();
    expect(n.raw.raft.term).toBe(1);
    n.raw.tick();
    expect(n.raw.raft.term).toBe(2);
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => [m.to, m.term])).toEqual([
      [2, 2],
      [3, 2],
    ]);
  });

  it("after a split vote among four voters the candidate retries at a higher term", () => {
    const n = newNode(1, { voters: [1, 2, 3, 4] });
    n.raw.campaign();
    drain(n);
    // 3 grants, 2 voted for someone else, 4 is silent: 2 of 4 is no majority, and not lost yet.
    n.raw.step(message({ type: MessageType.VoteResp, from: 3, to: 1, term: 1 }));
    n.raw.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 1, reject: true }));
    expect(n.raw.raft.role).toBe(StateRole.Candidate);
    const timeout = n.raw.raft.randomizedElectionTimeout;
    for (let t = 0; t < timeout; t++) n.raw.tick();
    expect(n.raw.raft.term).toBe(2);
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => m.to)).toEqual([2, 3, 4]);
    // This time a majority grants.
    n.raw.step(message({ type: MessageType.VoteResp, from: 2, to: 1, term: 2 }));
    n.raw.step(message({ type: MessageType.VoteResp, from: 4, to: 1, term: 2 }));
    expect(n.raw.raft.role).toBe(StateRole.Leader);
  });

  it.each([
    // [voters, votes by id (true = granted), resulting role]
    [1, {}, StateRole.Leader],
    [3, { 2: true, 3: true }, StateRole.Leader],
    [3, { 2: true }, StateRole.Leader],
    [5, { 2: true, 3: true, 4: true, 5: true }, StateRole.Leader],
    [5, { 2: true, 3: true }, StateRole.Leader],
    [3, {}, StateRole.Candidate],
    [5, { 2: true }, StateRole.Candidate],
    [5, { 2: false, 3: false }, StateRole.Candidate],
    [3, { 2: false, 3: false }, StateRole.Follower],
    [5, { 2: false, 3: false, 4: false }, StateRole.Follower],
    [5, { 2: true, 3: false, 4: false, 5: false }, StateRole.Follower],
  ] as const)("%i voters, votes %o: the candidate ends up %s", (size, votes, role) => {
    const voters = Array.from({ length: size }, (_, i) => i + 1);
    const n = newNode(1, { voters });
    n.raw.campaign();
    for (const [id, granted] of Object.entries(votes)) {
      n.raw.step(
        message({ type: MessageType.VoteResp, from: Number(id), to: 1, term: 1, reject: !granted }),
      );
    }
    expect(n.raw.raft.role).toBe(role);
    expect(n.raw.raft.term).toBe(1);
  });

  it.each([
    [1, 1],
    [2, 2],
  ])("a candidate at term 1 that hears an append at term %i follows its sender", (term, want) => {
    const n = newNode(1);
    n.raw.campaign();
    n.raw.step(app({ term }));
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.raft.term).toBe(want);
    expect(n.raw.leader).toBe(2);
  });

  it("randomized election timeouts lie in [electionTick, 2 * electionTick) and differ", () => {
    // The number of ticks a fresh follower waits before campaigning, for 50 seeds.
    const waits = Array.from({ length: 50 }, (_, seed) => {
      const n = newNode(1, { seed: seed + 1 });
      return ticksUntilCampaign(n);
    });
    for (const w of waits) {
      expect(w).toBeGreaterThanOrEqual(10);
      expect(w).toBeLessThan(20);
    }
    expect(new Set(waits).size).toBeGreaterThan(5);
    // One node re-draws its timeout at every election: successive waits differ too.
    const n = newNode(1, { seed: 99 });
    const again: number[] = [];
    for (let i = 0; i < 20; i++) again.push(ticksUntilCampaign(n));
    for (const w of again) expect(w).toBeGreaterThanOrEqual(10);
    for (const w of again) expect(w).toBeLessThan(20);
    expect(new Set(again).size).toBeGreaterThan(3);
  });

  it("five nodes with different seeds rarely time out at the same tick", () => {
    let collisions = 0;
    for (let trial = 0; trial < 100; trial++) {
      const waits = [1, 2, 3, 4, 5].map((id) =>
        ticksUntilCampaign(newNode(id, { voters: [1, 2, 3, 4, 5], seed: trial * 10 + id })),
      );
      const first = Math.min(...waits);
      if (waits.filter((w) => w === first).length > 1) collisions++;
    }
    // With 10 possible timeouts and 5 nodes a tie for first happens, but not most of the time.
    expect(collisions).toBeLessThan(50);
  });

  it.each([
    [NONE, 2, true],
    [NONE, 3, true],
    [2, 2, true],
    [3, 3, true],
    [2, 3, false],
    [3, 2, false],
  ])(
    "a follower that voted for %i in this term, asked by %i: granted %s",
    (vote, cand, granted) => {
      const n = newNode(1, { hardState: { term: 1, vote, commit: 0 } });
      n.raw.step(voteFrom(cand, 1));
      const rd = takeReady(n);
      expect(rd.messagesAfterPersist).toEqual([
        message({
          type: MessageType.VoteResp,
          from: 1,
          to: cand,
          term: 1,
          reject: !granted,
        }),
      ]);
      expect(n.raw.raft.vote).toBe(granted ? cand : vote);
    },
  );

  it("grants at most one vote per term, and remembers it across a restart", () => {
    const n = newNode(1);
    n.raw.step(voteFrom(2, 1));
    const rd = takeReady(n);
    expect(rd.hardState).toEqual({ term: 1, vote: 2, commit: 0 });
    expect(rd.mustSync).toBe(true);
    expect(rd.messagesAfterPersist.map((m) => m.reject)).toEqual([false]);
    n.raw.step(voteFrom(3, 1));
    expect(takeReady(n).messagesAfterPersist.map((m) => m.reject)).toEqual([true]);

    // Restart from what was persisted: the vote for 2 still binds term 1.
    const restarted = newNode(1, { storage: n.storage });
    expect(restarted.raw.raft.vote).toBe(2);
    restarted.raw.step(voteFrom(3, 1));
    expect(takeReady(restarted).messagesAfterPersist.map((m) => m.reject)).toEqual([true]);
    // A new term frees the vote.
    restarted.raw.step(voteFrom(3, 2));
    expect(takeReady(restarted).messagesAfterPersist.map((m) => m.reject)).toEqual([false]);
  });
});

describe("§5.3 log replication", () => {
  it("a leader appends a client entry to its log and sends it to every follower", () => {
    const n = newLeader(1);
    const res = n.raw.propose(ascii("some data"));
    expect(res).toEqual({ kind: "appended", index: 2, term: 1 });
    const rd = takeReady(n);
    expect(rd.entries.map((e) => [e.index, e.term, fromAscii(e.data)])).toEqual([
      [2, 1, "some data"],
    ]);
    const apps = ofType(rd.messages, MessageType.App);
    expect(apps.map((m) => [m.to, m.index, m.logTerm, m.commit, m.entries.length])).toEqual([
      [2, 1, 1, 1, 1],
      [3, 1, 1, 1, 1],
    ]);
    expect(apps[0]?.entries[0]).toEqual(rd.entries[0]);
    expect(n.raw.raft.log.committed).toBe(1);
  });

  it("a leader commits an entry once a majority stores it, and tells the followers", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("x"));
    const msgs = sentBy(takeReady(n));
    replyFrom(n, msgs, [2]);
    expect(n.raw.raft.log.committed).toBe(2);
    const rd = takeReady(n);
    expect(rd.committedEntries.map((e) => fromAscii(e.data))).toEqual(["x"]);
    // The new commit index travels with the next append.
    const apps = ofType(rd.messages, MessageType.App);
    expect(apps.map((m) => [m.to, m.commit])).toEqual([
      [2, 2],
      [3, 2],
    ]);
  });

  it.each([
    // [voters, followers that acknowledge, committed?]
    [1, [], true],
    [3, [], false],
    [3, [2], true],
    [3, [2, 3], true],
    [5, [], false],
    [5, [2], false],
    [5, [2, 3], true],
    [5, [2, 3, 4, 5], true],
  ])("%i voters, acknowledged by %o: committed %s", (size, acks, committed) => {
    const voters = Array.from({ length: size }, (_, i) => i + 1);
    const n = newLeader(1, { voters });
    const { index } = n.raw.propose(ascii("x")) as { index: number };
    replyFrom(n, sentBy(takeReady(n)), acks);
    expect(n.raw.raft.log.committed >= index).toBe(committed);
  });

  it("committing an entry commits every entry before it, including earlier terms'", () => {
    const n = newLeader(1, { terms: [1, 2], hardState: { term: 2, vote: NONE, commit: 0 } });
    // The leader and its peers (played perfectly by newLeader) hold [1, 2, 3(no-op)].
    n.raw.propose(ascii("x"));
    replyFrom(n, sentBy(takeReady(n)));
    const rd = takeReady(n);
    expect(rd.committedEntries.map((e) => [e.index, e.term])).toEqual([[4, 3]]);
    expect(n.storage.entries(1, 5, Number.POSITIVE_INFINITY).map((e) => e.term)).toEqual([
      1, 2, 3, 3,
    ]);
    expect(n.raw.raft.log.applied).toBe(4);
  });

  it("a follower commits what the leader committed, applying entries in index order", () => {
    const n = newNode(1);
    const applied: number[] = [];
    const take = () => {
      for (const e of takeReady(n).committedEntries) applied.push(e.index);
    };
    n.raw.step(app({ term: 1, entries: entriesWithTerms([1, 1, 1]), commit: 1 }));
    take();
    expect(n.raw.raft.log.committed).toBe(1);
    n.raw.step(app({ term: 1, index: 3, logTerm: 1, entries: entriesWithTerms([1, 1], 4) }));
    take();
    n.raw.step(app({ term: 1, index: 5, logTerm: 1, commit: 4 }));
    take();
    n.raw.step(app({ term: 1, index: 5, logTerm: 1, commit: 5 }));
    take();
    expect(applied).toEqual([1, 2, 3, 4, 5]);
  });

  it("a follower never commits past the entries it holds", () => {
    const n = newNode(1);
    n.raw.step(app({ term: 1, entries: entriesWithTerms([1, 1, 1]), commit: 10 }));
    expect(n.raw.raft.log.committed).toBe(3);
    // An append that matches only a prefix: the commit stops at its last entry.
    n.raw.step(app({ term: 1, index: 1, logTerm: 1, commit: 10 }));
    expect(n.raw.raft.log.committed).toBe(3);
  });

  it("a heartbeat tells a lagging follower to commit only up to what it is known to hold", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("a"));
    n.raw.propose(ascii("b"));
    // Only 2 acknowledges: 3 stays at match 1 while the commit moves to 3.
    replyFrom(n, sentBy(takeReady(n)), [2]);
    drainAll(n);
    expect(n.raw.raft.log.committed).toBe(3);
    n.raw.tick();
    const hbs = ofType(drainAll(n), MessageType.Heartbeat);
    expect(hbs.map((m) => [m.to, m.commit])).toEqual([
      [2, 3],
      [3, 1],
    ]);
  });

  it.each([
    // Follower log [1, 2] (terms), committed 1. [append index, its term, reject, index, hint, hint term]
    [0, 0, false, 1, 0, 0], // below the commit index: answered with the commit index
    [1, 1, false, 1, 0, 0],
    [2, 2, false, 2, 0, 0],
    [1, 2, true, 1, 1, 1], // term mismatch at 1
    [3, 3, true, 3, 2, 2], // past the end: the hint is our last entry
  ])(
    "a follower checks an append at (%i, term %i): reject %s",
    (index, logTerm, reject, respIndex, hint, hintTerm) => {
      const n = newNode(1, { terms: [1, 2], hardState: { term: 2, vote: NONE, commit: 1 } });
      n.raw.step(app({ term: 2, index, logTerm }));
      const resp = ofType(sentBy(takeReady(n)), MessageType.AppResp);
      expect(resp).toHaveLength(1);
      expect(resp[0]).toMatchObject({
        reject,
        index: respIndex,
        rejectHint: hint,
        logTerm: hintTerm,
      });
    },
  );

  it.each([
    // Follower log [1, 2]. [append index, its term, entries (index@term), resulting log terms]
    [2, 2, [[3, 3]], [1, 2, 3]],
    [
      1,
      1,
      [
        [2, 3],
        [3, 4],
      ],
      [1, 3, 4],
    ],
    [0, 0, [[1, 1]], [1, 2]], // already present: nothing changes
    [0, 0, [[1, 3]], [3]], // conflicts at 1: everything after is dropped
  ])("append at (%i, term %i) of %o leaves the follower with %o", (index, logTerm, ents, want) => {
    const n = newNode(1, { terms: [1, 2], hardState: { term: 2, vote: NONE, commit: 0 } });
    const entries: Entry[] = ents.map(([i, t]) => ({
      index: i as number,
      term: t as number,
      type: 0,
      data: new Uint8Array(0),
    }));
    n.raw.step(app({ term: 4, index, logTerm, entries }));
    expect(logTerms(n.raw)).toEqual(want);
    const resp = ofType(sentBy(takeReady(n)), MessageType.AppResp);
    expect(resp.map((m) => [m.reject, m.index])).toEqual([[false, index + ents.length]]);
    // The runtime was told to persist the same log.
    const stored = n.storage.entries(1, n.storage.lastIndex() + 1, Number.POSITIVE_INFINITY);
    expect(stored.map((e) => e.term)).toEqual(want);
  });
});

describe("§5.3 Figure 7: a leader brings divergent followers into agreement", () => {
  it("six followers with missing, extra and conflicting entries all end up with the leader's log", () => {
    const leaderLog = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
    const followers: Record<number, number[]> = {
      2: [1, 1, 1, 4, 4, 5, 5, 6, 6], // (a) missing one entry
      3: [1, 1, 1, 4], // (b) missing many
      4: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6], // (c) one extra uncommitted entry
      5: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7], // (d) extra entries of a later term
      6: [1, 1, 1, 4, 4, 4, 4], // (e) missing and extra entries
      7: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], // (f) a long divergent history
    };
    const c = clusterWithLogs({
      voters: [1, 2, 3, 4, 5, 6, 7],
      seed: 7,
      terms: { 1: leaderLog, ...followers },
      hardState: { term: 7, vote: NONE, commit: 0 },
    });
    // 1 wins with the votes of a, b, e and f (c and d hold more up-to-date logs and refuse).
    electNode(c, 1);
    expect(c.node(1).raw.raft.term).toBe(8);
    const want = [...leaderLog, 8];
    for (const id of [1, 2, 3, 4, 5, 6, 7]) {
      expect(logTerms(c.node(id).raw), `node ${id}`).toEqual(want);
      expect(c.node(id).raw.raft.log.committed, `node ${id}`).toBe(11);
    }
  });
});

describe("§5.4.1 election restriction", () => {
  it("a vote request carries the candidate's last log index and term", () => {
    const n = newNode(1, { terms: [1, 1, 2], hardState: { term: 2, vote: NONE, commit: 0 } });
    n.raw.campaign();
    const votes = ofType(sentBy(takeReady(n)), MessageType.Vote);
    expect(votes.map((m) => [m.to, m.term, m.index, m.logTerm])).toEqual([
      [2, 3, 3, 2],
      [3, 3, 3, 2],
    ]);
  });

  it.each([
    // [voter log terms, candidate last index, candidate last term, granted]
    [[1], 1, 1, true], // same log
    [[1], 2, 1, true], // same last term, longer
    [[1, 1], 1, 1, false], // same last term, shorter
    [[1], 1, 2, true], // later last term wins even if shorter
    [[1, 2], 5, 1, false], // earlier last term loses even if longer
    [[1, 2], 2, 2, true],
    [[1, 2], 1, 3, true],
  ])(
    "voter with log %o, candidate at (%i, term %i): granted %s",
    (terms, index, logTerm, granted) => {
      const n = newNode(1, { terms, hardState: { term: 3, vote: NONE, commit: 0 } });
      n.raw.step(voteFrom(2, 4, index, logTerm));
      const resp = ofType(sentBy(takeReady(n)), MessageType.VoteResp);
      expect(resp.map((m) => [m.to, m.reject])).toEqual([[2, !granted]]);
      expect(n.raw.raft.vote).toBe(granted ? 2 : NONE);
    },
  );
});

describe("§5.4.2 committing entries from previous terms (Figure 8)", () => {
  it("a new leader appends an empty entry of its own term", () => {
    const n = newNode(1, { terms: [1, 2], hardState: { term: 2, vote: NONE, commit: 0 } });
    electSelf(n);
    const last = n.raw.raft.log.allEntries().at(-1);
    expect(last).toMatchObject({ index: 3, term: 3, data: new Uint8Array(0) });
  });

  it("a leader counts replicas only for its own term's entries", () => {
    const n = newNode(1, { terms: [1, 2], hardState: { term: 2, vote: NONE, commit: 0 } });
    electSelf(n);
    drainAll(n); // the leader's no-op at 3 is durable
    n.raw.step(ackFrom(2, 3, 1));
    expect(n.raw.raft.log.committed).toBe(0);
    // Index 2 (term 2) is now on a majority (1 and 2), yet committing it by counting is unsafe.
    n.raw.step(ackFrom(2, 3, 2));
    expect(n.raw.raft.log.committed).toBe(0);
    n.raw.step(ackFrom(2, 3, 3));
    expect(n.raw.raft.log.committed).toBe(3);
  });

  it("Figure 8: an old-term entry on a majority of five commits only with a current-term entry", () => {
    // S1 leads term 4 holding [1, 2]; S2 and S3 hold [1, 2] too (Figure 8 (c)).
    const n = newNode(1, {
      voters: [1, 2, 3, 4, 5],
      terms: [1, 2],
      hardState: { term: 3, vote: NONE, commit: 1 },
    });
    electSelf(n);
    drainAll(n);
    expect(n.raw.raft.term).toBe(4);
    n.raw.step(ackFrom(2, 4, 2));
    n.raw.step(ackFrom(3, 4, 2));
    // Stored on S1, S2, S3 but still not committed: S5 could yet win and overwrite it (d).
    expect(n.raw.raft.log.committed).toBe(1);
    n.raw.step(ackFrom(2, 4, 3));
    expect(n.raw.raft.log.committed).toBe(1);
    // Once the term-4 entry is on a majority, it and index 2 before it are committed (e).
    n.raw.step(ackFrom(3, 4, 3));
    expect(n.raw.raft.log.committed).toBe(3);
    const rd = takeReady(n);
    expect(rd.committedEntries.map((e) => [e.index, e.term])).toEqual([
      [2, 2],
      [3, 4],
    ]);
  });

  it("Figure 8 across a cluster: a leader's no-op commits the entries a crashed leader left", () => {
    // Leader of term 2 replicated index 2 to S2 only, then crashed (Figure 8 (a)).
    const c = clusterWithLogs({
      voters: [1, 2, 3, 4, 5],
      seed: 8,
      terms: { 1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1] },
      hardState: { term: 2, vote: NONE, commit: 1 },
    });
    c.isolate(1);
    electNode(c, 2);
    for (const id of [2, 3, 4, 5]) {
      expect(logTerms(c.node(id).raw), `node ${id}`).toEqual([1, 2, 3]);
      expect(c.node(id).raw.raft.log.committed).toBe(3);
    }
  });
});
