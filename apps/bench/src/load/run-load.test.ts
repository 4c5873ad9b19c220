import { describe, expect, it } from "vitest";
import { scenario } from "../scenarios.js";
import { runLoad, type Target, WRITE_WARMUP_MAX_OPS, warmUp, warmupSpec } from "./run-load.js";

/** A target that answers at once and remembers what it was asked (the load's logic under test). */
function countingTarget(connections: number) {
  const puts: string[] = [];
  let gets = 0;
  const target: Target = {
    connections,
    put: (_conn, key) => {
      puts.push(key);
      return Promise.resolve(undefined);
    },
    get: () => {
      gets++;
      return Promise.resolve({ value: new Uint8Array(1) });
    },
  };
  return { target, puts, gets: () => gets };
}

describe("runLoad", () => {
  it("runs exactly the spec's operations, each write on key i of its prefix", async () => {
    const { target, puts } = countingTarget(1);
    const spec = scenario("high-concurrency-write", 0.001).spec;
    const r = await runLoad(spec, target);
    expect(r.ops).toBe(spec.ops);
    expect(r.errors).toBe(0);
    expect([...puts].sort()).toEqual(
      Array.from({ length: spec.ops }, (_, i) => `c${String(i).padStart(7, "0")}`),
    );
  });
});

describe("warmUp", () => {
  it("warms writes up on keys of their own, with the run's clients, for a bounded number of writes", async () => {
    const spec = scenario("high-concurrency-write", 1).spec;
    expect(warmupSpec(spec, 1)).toMatchObject({ prefix: "w", clients: spec.clients });
    const { target, puts } = countingTarget(1);
    await warmUp(spec, target, 1);
    // Whole rounds of 1,000 (one write per client) until WRITE_WARMUP_MAX_OPS.
    expect(puts.length).toBe(WRITE_WARMUP_MAX_OPS);
    expect(puts.every((k) => k.startsWith("w"))).toBe(true);
  });

  it("warms a single client's writes up in rounds of 200 until WRITE_WARMUP_MAX_OPS", async () => {
    const spec = scenario("single-client-write", 1).spec;
    const { target, puts } = countingTarget(1);
    await warmUp(spec, target, 1);
    expect(puts.length).toBe(WRITE_WARMUP_MAX_OPS);
    expect(new Set(puts).size).toBe(200);
  });

  it("warms a short run up at most three times its size", async () => {
    const spec = scenario("single-client-write", 0.001).spec; // 10 writes
    const { target, puts } = countingTarget(1);
    await warmUp(spec, target, 1);
    expect(puts.length).toBe(30);
    const read = scenario("lease-read", 0.001).spec; // 100 reads
    const r = countingTarget(100);
    await warmUp(read, r.target, 100);
    // 3x the run (300) is the cap here, well under READ_WARMUP_MAX_OPS.
    expect(r.gets()).toBe(300);
  });
});
