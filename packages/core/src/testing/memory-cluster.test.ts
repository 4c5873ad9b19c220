import { describe, expect, it } from "vitest";
import { fromAscii as dec, ascii as enc } from "./bytes.js";
import { MemoryCluster } from "./memory-cluster.js";

describe("MemoryCluster", () => {
  it("elects a leader and replicates proposals to every node", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 7 });
    const lead = c.electLeader();
    const r = c.node(lead).raw.propose(enc("hello"));
    expect(r.kind).toBe("appended");
    c.stabilize();
    for (const n of c.nodes.values()) {
      expect(n.applied.map((e) => dec(e.data))).toEqual(["hello"]);
    }
  });

  it("forwards a follower's proposal to the leader", () => {
    const c = new MemoryCluster({ voters: [1, 2, 3], seed: 8 });
    const lead = c.electLeader();
    const follower = [1, 2, 3].find((id) => id !== lead) as number;
    const r = c.node(follower).raw.propose(enc("via follower"));
    expect(r).toEqual({ kind: "forwarded", to: lead });
    c.stabilize();
    expect(c.node(lead).applied.map((e) => dec(e.data))).toEqual(["via follower"]);
  });
});
