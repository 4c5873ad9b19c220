// Vote rejections carry the rejecting node's commit index and the term there, and a candidate whose
// log holds that same entry adopts the commit. Without it the simulator found clusters that never
// elect again (seeds 30645 and 32779): a voter removed by a conf change knows the change committed
// and no longer campaigns, while the last voter does not know it, still needs the removed node's
// vote, and cannot get it because the removed node holds entries the candidate lost in a crash.
import { describe, expect, it } from "vitest";
import { drainAll, newNode, ofType } from "./testing/raft-fixtures.js";
import { MessageType, message, StateRole } from "./types.js";

/** Node 1 of voters {1, 2} with entries of `terms`, commit 2, campaigning. */
function candidate(terms: number[]) {
  const n1 = newNode(1, { voters: [1, 2], terms, hardState: { term: 2, vote: 0, commit: 2 } });
  n1.raw.campaign();
  return { n1, votes: ofType(drainAll(n1), MessageType.Vote, 2) };
}

/** Node 2 rejects node 1's vote with the commit hint (index, logTerm). */
function rejectWithHint(n1: ReturnType<typeof candidate>["n1"], index: number, logTerm: number) {
  n1.raw.step(
    message({
      type: MessageType.VoteResp,
      from: 2,
      to: 1,
      term: n1.raw.raft.term,
      reject: true,
      index,
      logTerm,
    }),
  );
}

describe("commit hints in vote rejections", () => {
  it("a rejection carries the rejecting node's commit index and the term of its entry", () => {
    // Node 2 has a longer log (5 entries, committed 4) than candidate 1 (3 entries).
    const n2 = newNode(2, { voters: [1, 2], terms: [1, 1, 2, 2, 3] });
    n2.raw.step(message({ type: MessageType.Heartbeat, from: 1, to: 2, term: 3, commit: 4 }));
    drainAll(n2);
    n2.raw.step(message({ type: MessageType.Vote, from: 1, to: 2, term: 4, index: 3, logTerm: 2 }));
    const [resp] = ofType(drainAll(n2), MessageType.VoteResp, 1);
    expect(resp?.reject).toBe(true);
    expect(resp?.index).toBe(4);
    expect(resp?.logTerm).toBe(2);
  });

  it("a candidate holding the hinted entry learns the commit and applies it", () => {
    const { n1, votes } = candidate([1, 1, 2, 2]);
    expect(votes).toHaveLength(1);
    rejectWithHint(n1, 4, 2);
    const rd = n1.raw.ready();
    expect(rd.hardState?.commit).toBe(4);
    expect(rd.committedEntries.map((e) => e.index)).toEqual([3, 4]);
    // The election itself is lost: learning a commit grants nothing.
    expect(n1.raw.raft.role).toBe(StateRole.Follower);
  });

  it("a hint whose term differs from the candidate's entry there is ignored", () => {
    const { n1 } = candidate([1, 1, 2, 2]);
    rejectWithHint(n1, 4, 3);
    expect(n1.raw.raft.log.committed).toBe(2);
  });

  it("a hint past the candidate's log is ignored", () => {
    const { n1 } = candidate([1, 1, 2]);
    rejectWithHint(n1, 5, 2);
    expect(n1.raw.raft.log.committed).toBe(2);
  });
});
