// Log replication mechanics: conflict hints and fast back-off, the durability contract of Ready
// (what may be sent before the fsync, what must wait), and flow control (probe, pipelined
// replicate window, byte limits, batching, coalesced broadcasts).
import { describe, expect, it } from "vitest";
import { ascii } from "./testing/bytes.js";
import {
  clusterWithLogs,
  drain,
  drainAll,
  electNode,
  electSelf,
  logTerms,
  newLeader,
  newNode,
  ofType,
  payload,
  progressOf,
  recordDeliveries,
  replyFrom,
  sentBy,
  takeReady,
} from "./testing/raft-fixtures.js";
import { ProgressState } from "./tracker/progress.js";
import { entrySize, type Message, MessageType, message, NONE } from "./types.js";

const LEADER_LOG = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];

const ackFrom = (from: number, term: number, index: number): Message =>
  message({ type: MessageType.AppResp, from, to: 1, term, index });

describe("conflict hints and back-off", () => {
  it.each([
    // [which follower of Figure 7, its log, the index the leader probes at after the rejection]
    ["f: a long divergent history", [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], 3],
    ["b: a short log", [1, 1, 1, 4], 4],
    ["e: missing and extra entries", [1, 1, 1, 4, 4, 4, 4], 5],
  ] as const)("follower %s: one rejection, one retry", (_name, follower, retryAt) => {
    // Node 3 shares the leader's log so that the leader can win the election.
    const c = clusterWithLogs({
      voters: [1, 2, 3],
      seed: 31,
      terms: { 1: LEADER_LOG, 2: follower, 3: LEADER_LOG },
      hardState: { term: 7, vote: NONE, commit: 0 },
    });
    const seen = recordDeliveries(c);
    electNode(c, 1);
    const rejections = seen.filter(
      (m) => m.type === MessageType.AppResp && m.from === 2 && m.reject,
    );
    // The follower's hint (its last index whose term is <= the probed term) lets the leader skip
    // whole divergent terms: one round trip instead of one per entry.
    expect(rejections).toHaveLength(1);
    const first = rejections[0] as Message;
    expect(first.index).toBe(10);
    const appsTo2 = ofType(seen, MessageType.App, 2);
    expect(appsTo2[0]?.index).toBe(10);
    expect(appsTo2[1]?.index).toBe(retryAt);
    expect(logTerms(c.node(2).raw)).toEqual([...LEADER_LOG, 8]);
  });

  it("the follower's hint names its last entry whose term is at most the probed term", () => {
    const n = newNode(1, {
      terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
      hardState: { term: 7, vote: NONE, commit: 0 },
    });
    n.raw.step(message({ type: MessageType.App, from: 2, to: 1, term: 8, index: 10, logTerm: 6 }));
    const [resp] = ofType(sentBy(takeReady(n)), MessageType.AppResp);
    expect(resp).toMatchObject({ reject: true, index: 10, rejectHint: 10, logTerm: 3 });
    n.raw.step(message({ type: MessageType.App, from: 2, to: 1, term: 8, index: 6, logTerm: 1 }));
    const [resp2] = ofType(sentBy(takeReady(n)), MessageType.AppResp);
    // Index 6 has term 2 > 1: the first entry of term <= 1 is index 3.
    expect(resp2).toMatchObject({ reject: true, index: 6, rejectHint: 3, logTerm: 1 });
  });

  it("a stale rejection (answering an older probe) does not move the leader back", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("a"));
    replyFrom(n, drainAll(n));
    expect(progressOf(n, 2).match).toBe(2);
    n.raw.step(
      message({
        type: MessageType.AppResp,
        from: 2,
        to: 1,
        term: 1,
        index: 1,
        reject: true,
        rejectHint: 0,
      }),
    );
    expect(progressOf(n, 2)).toMatchObject({ match: 2, next: 3, state: ProgressState.Replicate });
  });
});

describe("durability contract", () => {
  it("a leader's appends go before its fsync; a follower's acknowledgements wait for it", () => {
    const leader = newLeader(1);
    leader.raw.propose(ascii("x"));
    const rd = leader.raw.ready();
    expect(rd.entries).toHaveLength(1);
    expect(ofType(rd.messages, MessageType.App).map((m) => m.to)).toEqual([2, 3]);
    expect(rd.messagesAfterPersist).toEqual([]);
    leader.raw.advance();

    const follower = newNode(2, { terms: [1], hardState: { term: 1, vote: NONE, commit: 1 } });
    follower.raw.step(ofType(rd.messages, MessageType.App, 2)[0] as Message);
    const frd = follower.raw.ready();
    expect(frd.entries).toHaveLength(1);
    expect(frd.messages).toEqual([]);
    expect(frd.messagesAfterPersist.map((m) => [m.type, m.index])).toEqual([
      [MessageType.AppResp, 2],
    ]);
  });

  it("vote requests and vote responses wait for the fsync", () => {
    const cand = newNode(1);
    cand.raw.campaign();
    const rd = cand.raw.ready();
    expect(rd.messages).toEqual([]);
    expect(ofType(rd.messagesAfterPersist, MessageType.Vote)).toHaveLength(2);

    const voter = newNode(2);
    voter.raw.step(ofType(rd.messagesAfterPersist, MessageType.Vote, 2)[0] as Message);
    const vrd = voter.raw.ready();
    expect(vrd.messages).toEqual([]);
    expect(vrd.messagesAfterPersist.map((m) => [m.type, m.reject])).toEqual([
      [MessageType.VoteResp, false],
    ]);
    expect(vrd.hardState?.vote).toBe(1);
  });

  it("until advance(), the leader's own copy does not count toward the commit", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("x")); // index 2
    const rd = n.raw.ready();
    // Follower 2 has it durably, the leader's copy is still being written, 3 has not answered:
    // only one durable copy of three, so not committed.
    n.raw.step(ackFrom(2, 1, 2));
    expect(n.raw.raft.log.committed).toBe(1);
    n.storage.append(rd.entries);
    n.raw.advance();
    // The leader's copy is durable now: 1 and 2 are a majority.
    expect(n.raw.raft.log.committed).toBe(2);
  });

  it("two followers' durable copies commit even before the leader's own write finishes", () => {
    const n = newLeader(1);
    n.raw.propose(ascii("x"));
    n.raw.ready();
    n.raw.step(ackFrom(2, 1, 2));
    n.raw.step(ackFrom(3, 1, 2));
    expect(n.raw.raft.log.committed).toBe(2);
  });

  it("mustSync is set when entries, term or vote change, not for a commit-only change", () => {
    const n = newNode(2);
    const rd1 = drain(n);
    expect(rd1).toBeUndefined();
    // New term (the heartbeat's) with no entries: the term must be durable.
    n.raw.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1 }));
    expect(takeReady(n).mustSync).toBe(true);
    n.raw.step(
      message({
        type: MessageType.App,
        from: 1,
        to: 2,
        term: 1,
        entries: [{ index: 1, term: 1, type: 0, data: ascii("a") }],
      }),
    );
    const rd2 = takeReady(n);
    expect(rd2.entries).toHaveLength(1);
    expect(rd2.mustSync).toBe(true);
    n.raw.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 1, commit: 1 }));
    const rd3 = takeReady(n);
    expect(rd3.hardState).toEqual({ term: 1, vote: NONE, commit: 1 });
    expect(rd3.entries).toEqual([]);
    expect(rd3.mustSync).toBe(false);
    // A vote changes the hard state's vote: sync again.
    n.raw.step(message({ type: MessageType.Vote, from: 3, to: 2, term: 2, index: 1, logTerm: 1 }));
    const rd4 = takeReady(n);
    expect(rd4.hardState).toEqual({ term: 2, vote: 3, commit: 1 });
    expect(rd4.mustSync).toBe(true);
  });
});

describe("flow control", () => {
  it("in probe state a leader sends one append, then waits for an answer", () => {
    const n = newNode(1);
    electSelf(n);
    expect(progressOf(n, 2).state).toBe(ProgressState.Probe);
    expect(ofType(drainAll(n), MessageType.App, 2)).toHaveLength(1);
    n.raw.propose(ascii("a"));
    n.raw.propose(ascii("b"));
    expect(ofType(drainAll(n), MessageType.App, 2)).toEqual([]);
    // A heartbeat answer proves the follower is there: one more probe, carrying everything.
    n.raw.step(message({ type: MessageType.HeartbeatResp, from: 2, to: 1, term: 1 }));
    const apps = ofType(drainAll(n), MessageType.App, 2);
    expect(apps.map((m) => [m.index, m.entries.length])).toEqual([[0, 3]]);
    n.raw.propose(ascii("c"));
    expect(ofType(drainAll(n), MessageType.App, 2)).toEqual([]);
    // Once it matches, the follower moves to replicate state and the rest flows.
    n.raw.step(ackFrom(2, 1, 3));
    expect(progressOf(n, 2).state).toBe(ProgressState.Replicate);
    // (followed by an empty append that only carries the new commit index)
    expect(ofType(drainAll(n), MessageType.App, 2).map((m) => m.entries.length)).toEqual([1, 0]);
  });

  it("in replicate state a leader pipelines up to maxInflightMsgs appends, then stops", () => {
    const n = newLeader(1, { maxInflightMsgs: 3 });
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      n.raw.propose(ascii(`e${i}`));
      sent.push(ofType(drainAll(n), MessageType.App, 2).length);
    }
    expect(sent).toEqual([1, 1, 1, 0, 0]);
    expect(progressOf(n, 2).inflight).toBe(3);
    // Acknowledging the first frees one slot: the waiting entries go in one append.
    n.raw.step(ackFrom(2, 1, 2));
    const apps = ofType(drainAll(n), MessageType.App, 2);
    expect(apps.map((m) => m.entries.map((e) => e.index))).toEqual([[5, 6]]);
  });

  it("maxInflightBytes bounds the unacknowledged bytes per follower", () => {
    const n = newLeader(1, { maxInflightBytes: 250 });
    const sent: number[] = [];
    for (let i = 0; i < 5; i++) {
      n.raw.propose(payload(100));
      sent.push(ofType(drainAll(n), MessageType.App, 2).length);
    }
    // 100 + 100 + 100 bytes reaches 250: the third append fills the window.
    expect(sent).toEqual([1, 1, 1, 0, 0]);
  });

  it("maxSizePerMsg bounds each append, which still carries at least one entry", () => {
    const size = entrySize({ index: 0, term: 0, type: 0, data: payload(100) });
    const n = newLeader(1, { maxSizePerMsg: 3 * size });
    for (let i = 0; i < 7; i++) n.raw.propose(payload(100));
    const first = ofType(drainAll(n), MessageType.App, 2);
    expect(first.map((m) => m.entries.length)).toEqual([3]);
    // Once the follower answers, the leader fills its window with the rest.
    n.raw.step(ackFrom(2, 1, 4));
    const rest = ofType(drainAll(n), MessageType.App, 2).filter((m) => m.entries.length > 0);
    expect(rest.map((m) => m.entries.length)).toEqual([3, 1]);

    const tiny = newLeader(1, { maxSizePerMsg: 10 });
    tiny.raw.propose(payload(100));
    tiny.raw.propose(payload(100));
    expect(ofType(drainAll(tiny), MessageType.App, 2).map((m) => m.entries.length)).toEqual([1]);
  });

  it("reportUnreachable moves a replicating follower back to probe", () => {
    const n = newLeader(1);
    expect(progressOf(n, 2).state).toBe(ProgressState.Replicate);
    n.raw.reportUnreachable(2);
    expect(progressOf(n, 2).state).toBe(ProgressState.Probe);
    expect(progressOf(n, 3).state).toBe(ProgressState.Replicate);
  });

  it("group commit: 100 proposals in one turn go out as one append per follower", () => {
    const n = newLeader(1);
    for (let i = 0; i < 100; i++) n.raw.propose(ascii(`p${i}`));
    const rd = takeReady(n);
    expect(rd.entries).toHaveLength(100);
    const apps = ofType(rd.messages, MessageType.App);
    expect(apps.map((m) => [m.to, m.entries.length])).toEqual([
      [2, 100],
      [3, 100],
    ]);
  });

  it("group commit respects maxSizePerMsg: one batch per follower per turn", () => {
    const size = entrySize({ index: 0, term: 0, type: 0, data: payload(50) });
    const n = newLeader(1, { maxSizePerMsg: 25 * size });
    for (let i = 0; i < 100; i++) n.raw.propose(payload(50));
    const apps = ofType(drainAll(n), MessageType.App);
    expect(apps.map((m) => [m.to, m.entries.length])).toEqual([
      [2, 25],
      [3, 25],
    ]);
    for (const m of apps) {
      expect(m.entries.reduce((s, e) => s + entrySize(e), 0)).toBeLessThanOrEqual(25 * size);
    }
  });
});
