// The demo's cluster driven by hand, tick by tick, with a fixed seed: no timers, no clock, so
// every run prints the same story. Checks that what is printed matches what the cluster did.
import { describe, expect, it } from "vitest";
import { DemoCluster } from "./demo-cluster.js";
import { type DemoEvent, formatEvent, timestamp } from "./events.js";

const SEED = 2;
/** A fixed wall-clock time, so formatted lines are the same in every time zone and run. */
const AT = new Date(2026, 0, 2, 9, 5, 7, 42);

interface Run {
  readonly demo: DemoCluster;
  readonly events: DemoEvent[];
  readonly lines: string[];
}

/**
 * The demo's schedule in ticks (main.ts runs the same one on timers): a proposal every 5 ticks,
 * the leader cut off at tick 80 and reconnected 30 ticks later.
 */
function run(ticks: number, seed = SEED): Run {
  const events: DemoEvent[] = [];
  const demo = new DemoCluster({ seed, tickMs: 100, emit: (e) => events.push(e) });
  demo.start();
  for (let t = 1; t <= ticks; t++) {
    demo.tick();
    if (t % 5 === 0) demo.propose();
    if (t === 80) demo.isolateLeader(3000);
    if (t === 110) demo.heal();
  }
  return { demo, events, lines: events.map((e) => formatEvent(e, AT)) };
}

describe("demo cluster (driven by hand)", () => {
  it(`elects a leader within one election timeout with seed ${SEED} (the process test relies on it)`, () => {
    const { events, lines, demo } = run(10);
    const leader = events.find((e) => e.kind === "leader");
    expect(leader, `seed ${SEED}`).toBeDefined();
    expect(demo.elections).toBe(1);
    expect(lines).toContain(
      `09:05:07.042 election  node ${(leader as { node: number }).node} became leader at term 1`,
    );
  });

  it("commits the client's proposals in order and says they were applied on every node", () => {
    const { events, lines, demo } = run(60);
    const commits = events.filter((e) => e.kind === "commit");
    expect(commits.length).toBeGreaterThanOrEqual(8);
    expect(commits.map((c) => c.payload)).toEqual(commits.map((_, i) => `set counter=${i + 1}`));
    // Indexes increase; the first entry of a term is the leader's no-op, which is not reported.
    for (let i = 1; i < commits.length; i++) {
      expect(commits[i]?.index).toBeGreaterThan(commits[i - 1]?.index as number);
    }
    expect(lines).toContain(
      `09:05:07.042 commit    entry ${commits[0]?.index} (term ${commits[0]?.term}) "set counter=1" committed, applied on all 3 nodes`,
    );
    expect(demo.committed).toBe(commits.length);
    // The report matches the nodes' real state: every node applied the same last index.
    const applied = [...demo.cluster.nodes.values()].map((n) => n.raw.raft.log.applied);
    expect(new Set(applied).size).toBe(1);
    expect(applied[0]).toBe(commits.at(-1)?.index);
  });

  it("fails over when the leader is cut off, and the old leader catches up after healing", () => {
    const { events, lines, demo } = run(160);
    const isolate = events.find((e) => e.kind === "isolate");
    expect(isolate).toBeDefined();
    const old = (isolate as { node: number }).node;
    const afterCut = events.slice(events.indexOf(isolate as DemoEvent));

    const failover = afterCut.find((e) => e.kind === "failover");
    expect(failover).toMatchObject({ kind: "failover", from: old });
    const to = (failover as { to: number }).to;
    expect(to).not.toBe(old);
    expect(afterCut).toContainEqual(expect.objectContaining({ kind: "step-down", node: old }));
    expect(demo.failovers).toBe(1);
    expect(demo.elections).toBeGreaterThanOrEqual(2);

    // While cut off, commits reach only the majority; after healing the old leader catches up.
    expect(afterCut).toContainEqual(
      expect.objectContaining({ kind: "commit", appliedOn: 2, lagging: [old] }),
    );
    expect(afterCut).toContainEqual(expect.objectContaining({ kind: "catch-up", node: old }));
    expect(
      lines.some((l) => /failover {2}node \d took over from node \d at term \d+, /.test(l)),
    ).toBe(true);
    expect(lines.some((l) => / catch-up {2}node \d applied \d+ missed entr(y|ies) /.test(l))).toBe(
      true,
    );
    const last = events.filter((e) => e.kind === "commit").at(-1);
    expect(last).toMatchObject({ appliedOn: 3, of: 3 });
    // No proposal was lost across the failover: the counter values are 1, 2, 3, ... in order.
    const payloads = events.filter((e) => e.kind === "commit").map((e) => e.payload);
    expect(payloads).toEqual(payloads.map((_, i) => `set counter=${i + 1}`));
  });

  it("tells the client's trouble instead of hiding it when there is no leader", () => {
    const events: DemoEvent[] = [];
    const demo = new DemoCluster({ seed: SEED, emit: (e) => events.push(e) });
    demo.propose();
    expect(events).toEqual([
      { kind: "client", text: 'no leader to send "set counter=1" to yet; will retry' },
    ]);
    expect(demo.counter).toBe(1);
  });

  it("prints the same story for the same seed", () => {
    expect(run(160).lines).toEqual(run(160).lines);
  });
});

describe("event lines", () => {
  it("format the time of day with milliseconds", () => {
    expect(timestamp(AT)).toBe("09:05:07.042");
  });

  it("end with a one-line summary", () => {
    expect(
      formatEvent(
        { kind: "stopped", committed: 42, elections: 3, failovers: 2, seconds: 20.04 },
        AT,
      ),
    ).toBe("09:05:07.042 stopped: 42 entries committed, 3 elections, 2 failovers in 20.0 s");
    expect(
      formatEvent({ kind: "stopped", committed: 1, elections: 1, failovers: 0, seconds: 2 }, AT),
    ).toBe("09:05:07.042 stopped: 1 entry committed, 1 election, 0 failovers in 2.0 s");
  });

  it("say how far a failover and a partial commit got", () => {
    expect(formatEvent({ kind: "failover", from: 2, to: 3, term: 4, afterMs: 1200 }, AT)).toBe(
      "09:05:07.042 failover  node 3 took over from node 2 at term 4, 1.2 s after node 2 was cut off",
    );
    expect(
      formatEvent(
        {
          kind: "commit",
          index: 9,
          term: 4,
          payload: "set counter=7",
          appliedOn: 2,
          of: 3,
          lagging: [2],
        },
        AT,
      ),
    ).toBe(
      '09:05:07.042 commit    entry 9 (term 4) "set counter=7" committed, applied on 2 of 3 nodes (not yet on node 2)',
    );
  });
});
