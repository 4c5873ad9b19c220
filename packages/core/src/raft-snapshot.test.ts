// Snapshots and log compaction (Raft §7): a leader that compacted its log sends a follower that
// needs the discarded entries a snapshot instead, waits for the outcome (reportSnapshot), and
// resumes replication after it; followers ignore snapshots they do not need.
import { describe, expect, it } from "vitest";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drainAll,
  electNode,
  newLeader,
  newNode,
  ofType,
  progressOf,
  recordDeliveries,
  replyFrom,
  sentBy,
  type TestNode,
  takeReady,
  tickAndSettle,
} from "./testing/raft-fixtures.js";
import { ProgressState } from "./tracker/progress.js";
import { type Message, MessageType, message, NONE, type Snapshot } from "./types.js";

/**
 * A leader of [1, 2, 3] whose log runs to index 6, committed with 2 only, compacted up to 6
 * with a snapshot there. Its appends to 3 were lost (reported unreachable), so 3 needs the
 * snapshot.
 */
function compactedLeader(): TestNode {
  const n = newLeader(1);
  for (let i = 0; i < 5; i++) n.raw.propose(ascii(`e${i}`));
  replyFrom(n, drainAll(n), [2]);
  drainAll(n);
  expect(n.raw.raft.log.applied).toBe(6);
  n.storage.createSnapshot(6, n.raw.status().config, ascii("state@6"));
  n.storage.compact(6);
  n.raw.reportUnreachable(3);
  return n;
}

/** A heartbeat round in which only `who` answers; returns what the leader sends next. */
function heartbeatRound(n: TestNode, who: number): Message[] {
  n.raw.tick();
  replyFrom(n, ofType(drainAll(n), MessageType.Heartbeat), [who]);
  return drainAll(n);
}

describe("compaction", () => {
  it("a node keeps working after compacting its storage up to an applied index", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 71 });
    electNode(c, 1);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(ascii(`e${i}`));
    c.stabilize();
    for (const id of [1, 2, 3]) {
      const n = c.node(id);
      const applied = n.raw.raft.log.applied;
      n.storage.createSnapshot(applied, n.raw.status().config, ascii(`s${applied}`));
      n.storage.compact(applied);
      expect(n.raw.status().firstIndex).toBe(applied + 1);
      // The entry at the compaction point keeps its term (the log still matches there).
      expect(n.raw.raft.log.term(applied)).toBe(1);
    }
    c.node(1).raw.propose(ascii("after"));
    c.stabilize();
    for (const id of [1, 2, 3]) {
      expect(
        c
          .node(id)
          .applied.map((e) => fromAscii(e.data))
          .at(-1),
      ).toBe("after");
    }
  });
});

describe("sending a snapshot", () => {
  it("a follower that needs compacted entries gets a Snap with the snapshot's metadata", () => {
    const n = compactedLeader();
    const sent = heartbeatRound(n, 3);
    const snaps = ofType(sent, MessageType.Snap, 3);
    expect(snaps).toHaveLength(1);
    const snap = snaps[0]?.snapshot as Snapshot;
    const meta = snap.metadata;
    expect(meta.index).toBe(6);
    expect(meta.term).toBe(1);
    expect(meta.confState.voters).toEqual([1, 2, 3]);
    expect(fromAscii(snap.data)).toBe("state@6");
    expect(progressOf(n, 3)).toMatchObject({ state: ProgressState.Snapshot });
    // While the snapshot is in flight nothing else is sent to 3.
    n.raw.propose(ascii("meanwhile"));
    expect(ofType(drainAll(n), MessageType.App, 3)).toEqual([]);
  });

  it("the follower restores it, and replication continues after reportSnapshot(ok)", () => {
    const n = compactedLeader();
    const snap = ofType(heartbeatRound(n, 3), MessageType.Snap, 3)[0] as Message;
    n.raw.propose(ascii("after")); // index 7

    const f = newNode(3);
    f.raw.step(snap);
    const rd = takeReady(f);
    expect(rd.snapshot?.metadata.index).toBe(6);
    expect(f.storage.firstIndex()).toBe(7);
    expect(f.raw.raft.log.committed).toBe(6);
    const ack = ofType(rd.messagesAfterPersist, MessageType.AppResp);
    expect(ack.map((m) => [m.index, m.reject])).toEqual([[6, false]]);

    n.raw.reportSnapshot(3, true);
    expect(progressOf(n, 3)).toMatchObject({ state: ProgressState.Probe, next: 7 });
    n.raw.step(ack[0] as Message);
    expect(progressOf(n, 3)).toMatchObject({ state: ProgressState.Replicate, match: 6 });
    // (the broadcast due for "after" may add an empty append: only the carrying one matters)
    const apps = ofType(drainAll(n), MessageType.App, 3).filter((m) => m.entries.length > 0);
    expect(apps.map((m) => [m.index, m.logTerm, m.entries.map((e) => fromAscii(e.data))])).toEqual([
      [6, 1, ["after"]],
    ]);
    f.raw.step(apps[0] as Message);
    expect(f.raw.raft.log.lastIndex()).toBe(7);
    const resp = ofType(sentBy(takeReady(f)), MessageType.AppResp);
    expect(resp.map((m) => [m.index, m.reject])).toEqual([[7, false]]);
  });

  it("after reportSnapshot(failed) the leader sends the snapshot again later", () => {
    const n = compactedLeader();
    expect(ofType(heartbeatRound(n, 3), MessageType.Snap, 3)).toHaveLength(1);
    n.raw.reportSnapshot(3, false);
    expect(progressOf(n, 3).state).toBe(ProgressState.Probe);
    // Not at once: the leader waits for a sign of life (a heartbeat answer) first.
    expect(ofType(drainAll(n), MessageType.Snap)).toEqual([]);
    expect(ofType(heartbeatRound(n, 3), MessageType.Snap, 3)).toHaveLength(1);
  });

  it("a snapshot that cannot be produced right now is retried on a later heartbeat", () => {
    const n = compactedLeader();
    n.storage.snapshotUnavailable = true;
    expect(ofType(heartbeatRound(n, 3), MessageType.Snap)).toEqual([]);
    expect(progressOf(n, 3).state).toBe(ProgressState.Probe);
    n.storage.snapshotUnavailable = false;
    expect(ofType(heartbeatRound(n, 3), MessageType.Snap, 3)).toHaveLength(1);
  });

  it("in a cluster, a node that was down catches up through a snapshot", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 72 });
    electNode(c, 1);
    c.isolate(3);
    for (let i = 0; i < 5; i++) c.node(1).raw.propose(ascii(`e${i}`));
    c.stabilize();
    const lead = c.node(1);
    const applied = lead.raw.raft.log.applied;
    lead.storage.createSnapshot(applied, lead.raw.status().config, ascii("sm"));
    lead.storage.compact(applied);
    const seen = recordDeliveries(c);
    c.heal();
    tickAndSettle(c, 2);
    const snaps = ofType(seen, MessageType.Snap, 3);
    expect(snaps).toHaveLength(1);
    expect(c.node(3).storage.snapshot().metadata.index).toBe(applied);
    expect(c.node(3).raw.raft.log.committed).toBe(applied);
    c.node(1).raw.propose(ascii("after"));
    c.stabilize();
    expect(c.node(3).applied.map((e) => fromAscii(e.data))).toEqual(["after"]);
  });
});

describe("receiving a snapshot", () => {
  const snapAt = (index: number, term: number): Message =>
    message({
      type: MessageType.Snap,
      from: 2,
      to: 1,
      term: 1,
      snapshot: {
        metadata: {
          index,
          term,
          confState: {
            voters: [1, 2, 3],
            learners: [],
            votersOutgoing: [],
            learnersNext: [],
            autoLeave: false,
          },
        },
        data: ascii("sm"),
      },
    });

  it("a snapshot older than the commit index is ignored", () => {
    const n = newNode(1, { terms: [1, 1, 1, 1, 1], hardState: { term: 1, vote: NONE, commit: 5 } });
    n.raw.step(snapAt(3, 1));
    const rd = takeReady(n);
    expect(rd.snapshot).toBeUndefined();
    expect(ofType(sentBy(rd), MessageType.AppResp).map((m) => m.index)).toEqual([5]);
    expect(n.raw.status().firstIndex).toBe(1);
    expect(n.raw.raft.log.lastIndex()).toBe(5);
  });

  it("a snapshot of entries the follower already holds only moves its commit index", () => {
    const n = newNode(1, { terms: [1, 1, 1, 1, 1], hardState: { term: 1, vote: NONE, commit: 2 } });
    n.raw.step(snapAt(4, 1));
    const rd = takeReady(n);
    expect(rd.snapshot).toBeUndefined();
    expect(n.raw.raft.log.committed).toBe(4);
    expect(n.raw.raft.log.lastIndex()).toBe(5);
  });

  it("a snapshot whose membership does not include the node is refused", () => {
    const n = newNode(4, { voters: [1, 2, 4] });
    n.raw.step({ ...snapAt(5, 1), to: 4 });
    const rd = takeReady(n);
    expect(rd.snapshot).toBeUndefined();
    expect(n.raw.raft.log.lastIndex()).toBe(0);
  });
});
