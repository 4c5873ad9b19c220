// The simulator must catch deliberate bugs. Each test switches one on (a test-only knob in the
// core, or a runtime bug in the simulated host) and requires a violation within a bounded number
// of seeds. A simulator that cannot catch these proves nothing when it reports none.
import type { UnsafeTestingKnobs } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { planFromSeed } from "./seed-plan.js";
import { runSeed, type SimOptions } from "./simulation.js";

const MAX_SEEDS = 200;

interface Found {
  readonly seed: number;
  readonly kind: string;
  readonly message: string;
}

function hunt(options: (seed: number) => SimOptions): Found | undefined {
  for (let seed = 1; seed <= MAX_SEEDS; seed++) {
    const r = runSeed(seed, options(seed));
    const v = r.violations[0];
    if (v) return { seed, kind: v.kind, message: v.message };
  }
  return undefined;
}

const knob = (k: keyof UnsafeTestingKnobs) => ({ [k]: true });

describe("the simulator has teeth", () => {
  it("catches a vote sent before it is durable (sendVotesBeforePersist)", () => {
    const found = hunt(() => ({ knobs: knob("sendVotesBeforePersist") }));
    expect(found?.kind).toMatch(/vote-durability|election-safety/);
  });

  it("without the vote-durability check, the same bug shows as two leaders in one term", () => {
    const found = hunt(() => ({
      knobs: knob("sendVotesBeforePersist"),
      ignore: ["vote-durability", "membership"],
    }));
    expect(found?.kind).toMatch(/election-safety|log-matching/);
    // Seed 28 is the first to show it: some seconds of simulation on a busy 2-core machine.
  }, 60_000);

  it("catches a ReadIndex served before the leader's own-term commit", () => {
    const found = hunt(() => ({ knobs: knob("serveReadIndexBeforeOwnTermCommit") }));
    expect(found?.kind).toBe("read-before-own-term-commit");
  });

  it("catches old-term entries committed by counting replicas (Raft Figure 8)", () => {
    // Figure 8 needs three leaders in a row to fail at exact moments, with appends carrying one
    // entry each. Seeds are drawn from that corner of the plan space: three voters, one entry per
    // append, faults aimed at critical moments 60% of the time, and a longer chaos phase.
    const found = hunt((seed) => ({
      knobs: knob("countOldTermReplicasForCommit"),
      plan: {
        voters: 3,
        maxSizePerMsg: 1,
        chaosUs: 8_000_000,
        faults: { ...planFromSeed(seed).faults, momentFaultChance: 0.6 },
      },
    }));
    expect(found?.kind).toMatch(/leader-completeness|committed-entries-never-change|state-machine/);
  });

  it("the linearizability checker catches stale reads on its own", () => {
    // A runtime bug (reads answered from the local state machine, no ReadIndex) that no Raft
    // invariant sees: only the clients' history shows it.
    const found = hunt(() => ({ unsafeLocalReads: true }));
    expect(found?.kind).toBe("linearizability");
    expect(found?.message).toMatch(/get/);
  });
});
