import { describe, expect, it } from "vitest";
import { seededRng } from "../rng.js";
import type { NodeId } from "../types.js";
import { jointCommittedIndex, jointVoteResult } from "./joint.js";
import { majorityCommittedIndex, majorityVoteResult, quorumSize } from "./majority.js";
import { type JointConfig, VoteResult } from "./quorum.js";

const ids = (...xs: NodeId[]): Set<NodeId> => new Set(xs);
const acks =
  (m: Record<number, number>) =>
  (id: NodeId): number | undefined =>
    m[id];
const votes =
  (m: Record<number, boolean>) =>
  (id: NodeId): boolean | undefined =>
    m[id];
const joint = (incoming: NodeId[], outgoing: NodeId[]): JointConfig => ({
  incoming: ids(...incoming),
  outgoing: ids(...outgoing),
});

describe("quorumSize", () => {
  it("is a strict majority", () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });
});

describe("majorityCommittedIndex", () => {
  it("returns Infinity for an empty voter set so the other joint half decides", () => {
    expect(majorityCommittedIndex(ids(), acks({}))).toBe(Number.POSITIVE_INFINITY);
  });

  it("a single voter commits what it acked", () => {
    expect(majorityCommittedIndex(ids(1), acks({ 1: 7 }))).toBe(7);
  });

  it("odd size: the median ack is committed", () => {
    expect(majorityCommittedIndex(ids(1, 2, 3), acks({ 1: 5, 2: 9, 3: 2 }))).toBe(5);
    expect(majorityCommittedIndex(ids(1, 2, 3, 4, 5), acks({ 1: 1, 2: 2, 3: 3, 4: 4, 5: 5 }))).toBe(
      3,
    );
  });

  it("even size: needs n/2+1 acks, so the lower middle ack is committed", () => {
    expect(majorityCommittedIndex(ids(1, 2), acks({ 1: 10, 2: 4 }))).toBe(4);
    expect(majorityCommittedIndex(ids(1, 2, 3, 4), acks({ 1: 10, 2: 8, 3: 6, 4: 4 }))).toBe(6);
  });

  it("a voter with no ack counts as index 0", () => {
    expect(majorityCommittedIndex(ids(1, 2, 3), acks({ 1: 5 }))).toBe(0);
    expect(majorityCommittedIndex(ids(1, 2, 3), acks({ 1: 5, 2: 4 }))).toBe(4);
  });

  it("ignores acks of ids outside the voter set", () => {
    expect(majorityCommittedIndex(ids(1, 2, 3), acks({ 1: 5, 9: 100, 8: 100 }))).toBe(0);
  });
});

describe("majorityVoteResult", () => {
  it("an empty voter set wins", () => {
    expect(majorityVoteResult(ids(), votes({}))).toBe(VoteResult.Won);
  });

  it("wins once a quorum granted", () => {
    expect(majorityVoteResult(ids(1, 2, 3), votes({ 1: true, 2: true }))).toBe(VoteResult.Won);
    expect(majorityVoteResult(ids(1), votes({ 1: true }))).toBe(VoteResult.Won);
  });

  it("is pending while the missing votes could still make a quorum", () => {
    expect(majorityVoteResult(ids(1, 2, 3), votes({ 1: true }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult(ids(1, 2, 3), votes({ 1: true, 2: false }))).toBe(VoteResult.Pending);
    expect(majorityVoteResult(ids(1, 2, 3), votes({}))).toBe(VoteResult.Pending);
  });

  it("loses once a quorum can no longer be reached", () => {
    expect(majorityVoteResult(ids(1, 2, 3), votes({ 1: false, 2: false }))).toBe(VoteResult.Lost);
    expect(majorityVoteResult(ids(1), votes({ 1: false }))).toBe(VoteResult.Lost);
  });

  it("even size: a tie is lost, not won (2 of 4 is not a majority)", () => {
    const four = ids(1, 2, 3, 4);
    expect(majorityVoteResult(four, votes({ 1: true, 2: true, 3: false, 4: false }))).toBe(
      VoteResult.Lost,
    );
    expect(majorityVoteResult(four, votes({ 1: true, 2: true, 3: false }))).toBe(
      VoteResult.Pending,
    );
    expect(majorityVoteResult(four, votes({ 1: true, 2: true, 3: true }))).toBe(VoteResult.Won);
  });

  it("ignores votes of ids outside the voter set", () => {
    expect(majorityVoteResult(ids(1, 2, 3), votes({ 1: true, 7: true, 8: true }))).toBe(
      VoteResult.Pending,
    );
  });
});

describe("jointCommittedIndex", () => {
  it("is the smaller of the two halves' committed indexes", () => {
    const a = acks({ 1: 10, 2: 10, 3: 1, 4: 3, 5: 3 });
    // incoming {1,2,3} commits 10, outgoing {3,4,5} commits 3.
    expect(jointCommittedIndex(joint([1, 2, 3], [3, 4, 5]), a)).toBe(3);
    expect(jointCommittedIndex(joint([3, 4, 5], [1, 2, 3]), a)).toBe(3);
  });

  it("an empty outgoing half defers to the incoming half", () => {
    expect(jointCommittedIndex(joint([1, 2, 3], []), acks({ 1: 4, 2: 6, 3: 8 }))).toBe(6);
  });
});

describe("jointVoteResult", () => {
  const cfg = joint([1, 2, 3], [3, 4, 5]);

  it("wins only when both halves won", () => {
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true, 4: true, 5: true }))).toBe(
      VoteResult.Won,
    );
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true }))).toBe(VoteResult.Pending);
  });

  it("loses when either half lost, even if the other won", () => {
    expect(jointVoteResult(cfg, votes({ 1: true, 2: true, 4: false, 5: false }))).toBe(
      VoteResult.Lost,
    );
    expect(jointVoteResult(cfg, votes({ 1: false, 2: false }))).toBe(VoteResult.Lost);
  });

  it("is pending while neither lost and not both won", () => {
    expect(jointVoteResult(cfg, votes({ 3: true }))).toBe(VoteResult.Pending);
  });

  it("with an empty outgoing half behaves like the incoming majority", () => {
    expect(jointVoteResult(joint([1, 2, 3], []), votes({ 1: true, 2: true }))).toBe(VoteResult.Won);
    expect(jointVoteResult(joint([1, 2, 3], []), votes({ 1: false, 2: false }))).toBe(
      VoteResult.Lost,
    );
  });
});

// Brute-force definitions straight from the meaning of a quorum, to check the sorted shortcuts.
function bruteCommitted(voters: ReadonlySet<NodeId>, acked: Map<NodeId, number>): number {
  if (voters.size === 0) return Number.POSITIVE_INFINITY;
  let best = 0;
  const candidates = [0, ...[...voters].map((id) => acked.get(id) ?? 0)];
  for (const c of candidates) {
    let n = 0;
    for (const id of voters) if ((acked.get(id) ?? 0) >= c) n++;
    if (n >= quorumSize(voters.size) && c > best) best = c;
  }
  return best;
}

function bruteMajority(voters: ReadonlySet<NodeId>, v: Map<NodeId, boolean>): VoteResult {
  // Won if granted alone is a quorum; lost if even granting every missing vote is not.
  const q = quorumSize(voters.size);
  let yes = 0;
  let maybe = 0;
  for (const id of voters) {
    const x = v.get(id);
    if (x === true) yes++;
    if (x !== false) maybe++;
  }
  if (voters.size === 0 || yes >= q) return VoteResult.Won;
  return maybe >= q ? VoteResult.Pending : VoteResult.Lost;
}

function bruteJoint(cfg: JointConfig, v: Map<NodeId, boolean>): VoteResult {
  const r = [bruteMajority(cfg.incoming, v), bruteMajority(cfg.outgoing, v)];
  if (r.includes(VoteResult.Lost)) return VoteResult.Lost;
  if (r.every((x) => x === VoteResult.Won)) return VoteResult.Won;
  return VoteResult.Pending;
}

function randomVoters(rng: ReturnType<typeof seededRng>, max: number): Set<NodeId> {
  const s = new Set<NodeId>();
  const n = rng.nextInt(max + 1);
  while (s.size < n) s.add(1 + rng.nextInt(9));
  return s;
}

const SEED = 20240611;

describe(`randomized against brute force (seed ${SEED})`, () => {
  it(`majorityCommittedIndex = largest index acked by a quorum (seed ${SEED})`, () => {
    const rng = seededRng(SEED);
    for (let i = 0; i < 2000; i++) {
      const voters = randomVoters(rng, 7);
      const acked = new Map<NodeId, number>();
      for (let id = 1; id <= 9; id++) if (rng.nextInt(4) > 0) acked.set(id, rng.nextInt(20));
      const got = majorityCommittedIndex(voters, (id) => acked.get(id));
      expect(got, `seed ${SEED} case ${i}`).toBe(bruteCommitted(voters, acked));
    }
  });

  it(`jointVoteResult = both halves won / either lost (seed ${SEED})`, () => {
    const rng = seededRng(SEED + 1);
    for (let i = 0; i < 2000; i++) {
      const cfg = { incoming: randomVoters(rng, 5), outgoing: randomVoters(rng, 5) };
      const v = new Map<NodeId, boolean>();
      for (let id = 1; id <= 9; id++) {
        const r = rng.nextInt(3);
        if (r < 2) v.set(id, r === 0);
      }
      const got = jointVoteResult(cfg, (id) => v.get(id));
      expect(got, `seed ${SEED + 1} case ${i}`).toBe(bruteJoint(cfg, v));
    }
  });
});
