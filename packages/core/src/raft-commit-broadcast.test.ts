// deferCommitBroadcast: when the commit index advances and nothing else is due, the leader holds
// the commit-only appends until the runtime asks (broadcastCommit) or new entries carry the commit
// index anyway. It changes when followers learn the commit index, never what is committed.
import { describe, expect, it } from "vitest";
import { ascii } from "./testing/bytes.js";
import { drainAll, newLeader, ofType, replyFrom } from "./testing/raft-fixtures.js";
import { type Message, MessageType, message } from "./types.js";

const deferred = (voters = [1, 2, 3]) => newLeader(1, { voters, deferCommitBroadcast: true });

/** Proposes `data`, has both followers acknowledge it; returns what the leader sends next. */
function commitOne(n: ReturnType<typeof deferred>, data: string): Message[] {
  n.raw.propose(ascii(data));
  replyFrom(n, drainAll(n));
  return drainAll(n);
}

describe("deferred commit broadcast", () => {
  it("eager by default: a commit advance sends commit-only appends at once", () => {
    const n = newLeader(1);
    const after = commitOne(n, "a");
    const apps = ofType(after, MessageType.App);
    expect(apps.map((m) => m.to)).toEqual([2, 3]);
    expect(apps.every((m) => m.entries.length === 0 && m.commit === n.raw.raft.log.committed)).toBe(
      true,
    );
    expect(n.raw.hasPendingCommitBroadcast()).toBe(false);
  });

  it("deferred: the commit advances, the appends wait until broadcastCommit()", () => {
    const n = deferred();
    const before = n.raw.raft.log.committed;
    const after = commitOne(n, "a");
    expect(n.raw.raft.log.committed).toBe(before + 1);
    expect(ofType(after, MessageType.App)).toEqual([]);
    expect(n.raw.hasPendingCommitBroadcast()).toBe(true);
    expect(n.raw.broadcastCommit()).toBe(true);
    const apps = ofType(drainAll(n), MessageType.App);
    expect(apps.map((m) => [m.to, m.entries.length, m.commit])).toEqual([
      [2, 0, before + 1],
      [3, 0, before + 1],
    ]);
    expect(n.raw.hasPendingCommitBroadcast()).toBe(false);
    // Nothing more is waiting: a second call sends nothing.
    expect(n.raw.broadcastCommit()).toBe(false);
    expect(drainAll(n)).toEqual([]);
  });

  it("deferred: the next proposal's appends carry the commit index and clear the wait", () => {
    const n = deferred();
    commitOne(n, "a");
    const committed = n.raw.raft.log.committed;
    expect(n.raw.hasPendingCommitBroadcast()).toBe(true);
    n.raw.propose(ascii("b"));
    const apps = ofType(drainAll(n), MessageType.App);
    expect(apps.map((m) => [m.to, m.entries.length, m.commit])).toEqual([
      [2, 1, committed],
      [3, 1, committed],
    ]);
    expect(n.raw.hasPendingCommitBroadcast()).toBe(false);
    expect(n.raw.broadcastCommit()).toBe(false);
  });

  it("deferred: a leader that steps down forgets the wait", () => {
    const n = deferred();
    commitOne(n, "a");
    expect(n.raw.hasPendingCommitBroadcast()).toBe(true);
    n.raw.step(message({ type: MessageType.App, from: 2, to: 1, term: n.raw.raft.term + 1 }));
    expect(n.raw.raft.role).toBe("follower");
    expect(n.raw.hasPendingCommitBroadcast()).toBe(false);
    expect(n.raw.broadcastCommit()).toBe(false);
  });

  it("deferred: a leader alone has nobody to tell", () => {
    const n = deferred([1]);
    n.raw.propose(ascii("a"));
    drainAll(n);
    expect(n.raw.raft.log.committed).toBe(n.raw.raft.log.lastIndex());
    expect(n.raw.hasPendingCommitBroadcast()).toBe(false);
    expect(n.raw.hasReady()).toBe(false);
  });

  it("deferred: followers still learn the commit index from heartbeats", () => {
    const n = deferred();
    commitOne(n, "a");
    const committed = n.raw.raft.log.committed;
    n.raw.tick();
    const hbs = ofType(drainAll(n), MessageType.Heartbeat);
    expect(hbs.map((m) => [m.to, m.commit])).toEqual([
      [2, committed],
      [3, committed],
    ]);
  });

  it("deferred: a leadership transfer sends the commit index before TimeoutNow", () => {
    const n = deferred();
    commitOne(n, "a");
    const committed = n.raw.raft.log.committed;
    n.raw.transferLeader(2);
    const out = drainAll(n).filter((m) => m.to === 2);
    expect(out.map((m) => m.type)).toEqual([MessageType.App, MessageType.TimeoutNow]);
    expect(out[0]?.commit).toBe(committed);
  });
});
