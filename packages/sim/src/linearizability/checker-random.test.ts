// Seeded random histories: linearizable by construction, then broken on purpose.

import { seededRng } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { bruteForceLinearizable, randomSmallHistory } from "./brute-force.js";
import { checkHistory } from "./checker.js";
import { formatHistory } from "./format.js";
import type { Operation } from "./history.js";
import { randomLinearizableHistory } from "./random-history.js";
import { checkSingleKey } from "./search.js";

describe("checkHistory on random histories", () => {
  const seeds = Array.from({ length: 25 }, (_, i) => 1000 + i);

  it.each(seeds)("seed %i: a recorded sequential execution is linearizable", (seed) => {
    const ops = randomLinearizableHistory(seededRng(seed), {
      ops: 150,
      keys: 3,
      clients: 4,
      unknownRate: 0.1,
    });
    expect(checkHistory(ops)).toEqual({ ok: true });
  });

  it.each(seeds)("seed %i: a read of a never-written value is caught", (seed) => {
    const rng = seededRng(seed);
    const ops = randomLinearizableHistory(rng, { ops: 150, keys: 3, clients: 4, unknownRate: 0.1 });
    const reads = ops.filter((o) => o.input.op === "get" && o.output.kind === "value");
    const victim = reads[rng.nextInt(reads.length)]!;
    const mutated = ops.map((o) =>
      o === victim ? { ...o, output: { kind: "value", value: "never-written" } as const } : o,
    );
    const result = checkHistory(mutated);
    if (result.ok !== false) throw new Error(`seed ${seed}: expected a violation`);
    expect(result.key).toBe(victim.key);
    expect(result.minimal.map((o) => o.id)).toEqual([victim.id]);
  });

  it("seeds 1..3000: small arbitrary histories get the brute-force verdict", () => {
    let violations = 0;
    for (let seed = 1; seed <= 3000; seed++) {
      const ops = randomSmallHistory(seededRng(seed), 7);
      const expected = bruteForceLinearizable(ops);
      const result = checkHistory(ops);
      if ((result.ok === true) !== expected) {
        throw new Error(`seed ${seed}: brute force says ${expected}\n${formatHistory(ops)}`);
      }
      if (result.ok === false) {
        violations++;
        // The shrunk witness must still be a violation on its own, and not one created by
        // leaving out a write: adding back any single write must not explain it.
        expect(bruteForceLinearizable(result.minimal)).toBe(false);
        for (const w of ops.filter((o) => o.input.op !== "get" && !result.minimal.includes(o))) {
          if (bruteForceLinearizable([...result.minimal, w])) {
            throw new Error(`seed ${seed}: op ${w.id} explains the witness\n${formatHistory(ops)}`);
          }
        }
      }
    }
    // Both verdicts occur often enough for the comparison to mean something.
    expect(violations).toBeGreaterThan(500);
    expect(violations).toBeLessThan(2500);
  });

  it("seed 7: shrinks a stale read hidden in 200 operations to a few", () => {
    const seed = 7;
    const ops = randomLinearizableHistory(seededRng(seed), { ops: 200, keys: 4, clients: 4 });
    // A client of its own, mid-history, writes two fresh values in turn and then reads the
    // first: no order explains that, whatever the other clients did to the key meanwhile.
    const mid = ops[100]!.invoke;
    const stale: Operation = {
      id: 10_000,
      clientId: 99,
      key: "k1",
      input: { op: "get" },
      output: { kind: "value", value: "fresh-a" },
      invoke: mid + 4,
      complete: mid + 5,
    };
    const planted: Operation[] = [
      {
        id: 10_001,
        clientId: 99,
        key: "k1",
        input: { op: "put", value: "fresh-a" },
        output: { kind: "ok" },
        invoke: mid,
        complete: mid + 1,
      },
      {
        id: 10_002,
        clientId: 99,
        key: "k1",
        input: { op: "put", value: "fresh-b" },
        output: { kind: "ok" },
        invoke: mid + 2,
        complete: mid + 3,
      },
      stale,
    ];
    const history = [...ops, ...planted];
    expect(history.filter((o) => o.key === "k1").length).toBeGreaterThan(30);

    const result = checkHistory(history);
    if (result.ok !== false) throw new Error(`seed ${seed}: expected a violation`);
    expect(result.key).toBe("k1");
    expect(result.minimal.length).toBeLessThanOrEqual(4);
    expect(result.minimal.map((o) => o.id)).toContain(stale.id);
    expect(formatHistory(result.minimal)).toContain('get k1 -> "fresh-a"');
  });

  it("seed 12: finds a stale read in a window when the whole key is too long to refute", () => {
    const seed = 12;
    const ops = randomLinearizableHistory(seededRng(seed), {
      ops: 800,
      keys: 1,
      clients: 6,
      unknownRate: 0.1,
    });
    const budget = { maxStepsPerKey: 20_000 };
    // Enough to accept the history as recorded...
    expect(checkHistory(ops, budget)).toEqual({ ok: true });
    // ...but not to refute all of it once a late read returns an overwritten value.
    const reads = ops.filter((o) => o.input.op === "get" && o.output.kind === "value");
    const victim = reads[Math.floor(reads.length * 0.8)]!;
    const overwritten = ops
      .filter((o) => o.input.op === "put" && o.output.kind === "ok")
      .filter((o) => o.complete < victim.invoke - 100)
      .at(-1)!;
    expect(overwritten.input.op).toBe("put");
    const value = overwritten.input.op === "put" ? overwritten.input.value : "";
    const stale = { ...victim, output: { kind: "value", value } as const };
    const mutated = ops.map((o) => (o === victim ? stale : o));
    expect(checkSingleKey(mutated, budget.maxStepsPerKey)).toBe("budget-exceeded");

    const result = checkHistory(mutated, budget);
    if (result.ok !== false) throw new Error(`seed ${seed}: expected a violation`);
    expect(result.minimal).toContain(stale);
    expect(result.minimal.length).toBeLessThanOrEqual(4);
    expect(result.explanation).toContain("ran out of budget");
    // The witness stands on its own: a full search of just those operations rejects it.
    expect(checkSingleKey(result.minimal)).toBe("not-linearizable");
  });

  it("seed 42: 1,000 operations over 10 keys at concurrency 5 check within the budget", () => {
    const ops = randomLinearizableHistory(seededRng(42), {
      ops: 1000,
      keys: 10,
      clients: 5,
      unknownRate: 0.02,
    });
    expect(checkHistory(ops)).toEqual({ ok: true });
  });
});
