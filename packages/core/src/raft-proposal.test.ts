// Client proposals: where they go (appended on the leader, forwarded by followers) and when they
// are refused (no leader, forwarding disabled, the uncommitted-bytes cap).
import { describe, expect, it } from "vitest";
import { isRaftError, type RaftError } from "./errors.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  drainAll,
  electNode,
  newLeader,
  newNode,
  ofType,
  payload,
  replyFrom,
  sentBy,
  type TestNode,
  takeReady,
} from "./testing/raft-fixtures.js";
import { EMPTY_BYTES, MessageType, message, StateRole } from "./types.js";

function proposeError(n: TestNode, data: Uint8Array): RaftError | undefined {
  try {
    n.raw.propose(data);
  } catch (e) {
    if (isRaftError(e)) return e;
    throw e;
  }
  return undefined;
}

/** A follower of leader 2 at term 1. */
function follower(spec: Parameters<typeof newNode>[1] = {}): TestNode {
  const n = newNode(1, spec);
  n.raw.step(message({ type: MessageType.Heartbeat, from: 2, to: 1, term: 1 }));
  drainAll(n);
  return n;
}

describe("proposals", () => {
  it("a follower forwards a proposal to the leader without appending it", () => {
    const n = follower();
    expect(n.raw.propose(ascii("fwd"))).toEqual({ kind: "forwarded", to: 2 });
    const rd = takeReady(n);
    const props = ofType(sentBy(rd), MessageType.Prop);
    expect(props.map((m) => [m.to, fromAscii(m.entries[0]?.data as Uint8Array)])).toEqual([
      [2, "fwd"],
    ]);
    // Forwarding does not wait for this node's fsync: nothing of ours is in it.
    expect(rd.messages).toEqual(props);
    expect(n.raw.raft.log.lastIndex()).toBe(0);
  });

  it("a forwarded proposal is appended and committed by the leader", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 51 });
    electNode(c, 1);
    expect(c.node(3).raw.propose(ascii("via 3"))).toEqual({ kind: "forwarded", to: 1 });
    c.stabilize();
    for (const id of [1, 2, 3]) {
      expect(c.node(id).applied.map((e) => fromAscii(e.data))).toEqual(["via 3"]);
    }
  });

  it("with forwarding disabled a follower refuses, naming the leader", () => {
    const n = follower({ disableProposalForwarding: true });
    const err = proposeError(n, ascii("x"));
    expect(err?.code).toBe("proposal-dropped");
    expect(err?.leaderHint).toBe(2);
    expect(n.raw.hasReady()).toBe(false);
  });

  it("a candidate, or a follower with no leader, refuses", () => {
    const lonely = newNode(1);
    expect(proposeError(lonely, ascii("x"))?.code).toBe("proposal-dropped");
    const cand = newNode(1);
    cand.raw.campaign();
    expect(cand.raw.raft.role).toBe(StateRole.Candidate);
    expect(proposeError(cand, ascii("x"))?.code).toBe("proposal-dropped");
    expect(cand.raw.raft.log.lastIndex()).toBe(0);
  });

  it("the uncommitted-bytes cap refuses proposals past it and accepts again after apply", () => {
    const n = newLeader(1, { maxUncommittedEntriesSize: 100 });
    expect(n.raw.propose(payload(60)).kind).toBe("appended");
    const msgs = drainAll(n);
    expect(n.raw.propose(payload(40)).kind).toBe("appended"); // exactly at the cap
    const err = proposeError(n, payload(1));
    expect(err?.code).toBe("proposal-dropped");
    expect(n.raw.raft.log.lastIndex()).toBe(3);
    // Empty entries weigh nothing and are always accepted.
    expect(n.raw.propose(EMPTY_BYTES)).toMatchObject({ kind: "appended", index: 4 });
    // The first 60 bytes commit and are applied: room for 60 more, not 61.
    replyFrom(n, msgs, [2]);
    drainAll(n);
    expect(n.raw.raft.log.applied).toBe(2);
    expect(proposeError(n, payload(61))?.code).toBe("proposal-dropped");
    expect(n.raw.propose(payload(60)).kind).toBe("appended");
  });

  it("an empty log accepts one proposal larger than the cap (it cannot wedge the leader)", () => {
    const n = newLeader(1, { maxUncommittedEntriesSize: 10 });
    expect(n.raw.propose(payload(50)).kind).toBe("appended");
    expect(proposeError(n, payload(1))?.code).toBe("proposal-dropped");
  });
});
