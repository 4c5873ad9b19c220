// Restart: a node rebuilt over its storage resumes with the term, vote, commit index and log it
// persisted, and refuses storage that contradicts itself.
import { describe, expect, it } from "vitest";
import { isRaftError } from "./errors.js";
import { ascii, fromAscii } from "./testing/bytes.js";
import { MemoryCluster } from "./testing/memory-cluster.js";
import {
  electNode,
  logTerms,
  newNode,
  newStorage,
  sentBy,
  takeReady,
  tickAndSettle,
} from "./testing/raft-fixtures.js";
import { MessageType, message, NONE, StateRole } from "./types.js";

describe("restart", () => {
  it("a node reloads term, vote, commit and log from storage", () => {
    const storage = newStorage({
      voters: [1, 2, 3],
      terms: [1, 1, 2],
      hardState: { term: 2, vote: 3, commit: 2 },
    });
    const n = newNode(1, { storage });
    expect(n.raw.raft.hardState()).toEqual({ term: 2, vote: 3, commit: 2 });
    expect(logTerms(n.raw)).toEqual([1, 1, 2]);
    expect(n.raw.raft.role).toBe(StateRole.Follower);
    expect(n.raw.leader).toBe(NONE);
    // The persisted vote still binds term 2.
    n.raw.step(message({ type: MessageType.Vote, from: 2, to: 1, term: 2, index: 3, logTerm: 2 }));
    const resp = sentBy(takeReady(n)).filter((m) => m.type === MessageType.VoteResp);
    expect(resp.map((m) => m.reject)).toEqual([true]);
  });

  it("refuses to start when the persisted commit index is past the log's end", () => {
    const storage = newStorage({
      voters: [1, 2, 3],
      terms: [1, 1, 1],
      hardState: { term: 1, vote: NONE, commit: 5 },
    });
    let err: unknown;
    try {
      newNode(1, { storage });
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, "corrupt-state")).toBe(true);
  });

  it("restarted followers and leaders rejoin with their state and lose nothing committed", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 91 });
    electNode(c, 1);
    for (const s of ["a", "b"]) c.node(1).raw.propose(ascii(s));
    c.stabilize();
    tickAndSettle(c, 1); // followers learn the final commit index
    for (const id of [2, 1]) {
      const before = c.node(id).raw.raft;
      const hs = before.hardState();
      const terms = logTerms(c.node(id).raw);
      const restarted = c.restart(id);
      expect(restarted.raw.raft.hardState()).toEqual(hs);
      expect(logTerms(restarted.raw)).toEqual(terms);
      // It does not apply again what it had applied before the crash.
      expect(restarted.raw.raft.log.applied).toBe(hs.commit);
    }
    c.electLeader();
    tickAndSettle(c, 20);
    const lead = c.leader() as number;
    c.node(lead).raw.propose(ascii("c"));
    c.stabilize();
    for (const id of [1, 2, 3]) {
      expect(c.node(id).applied.map((e) => fromAscii(e.data))).toEqual(["a", "b", "c"]);
    }
  });
});
