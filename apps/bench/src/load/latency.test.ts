import { describe, expect, it } from "vitest";
import { atRank, Latencies } from "./latency.js";

describe("Latencies", () => {
  it("gives nearest-rank percentiles, max and mean of what was recorded, in any order", () => {
    const l = new Latencies(16); // fewer than recorded: the array has to grow
    const values = Array.from({ length: 1000 }, (_, i) => i + 1);
    // A fixed shuffle (a stride coprime with 1000): sorting, not arrival order, decides.
    for (let k = 0; k < 1000; k++) l.record(values[(k * 7) % 1000] as number);
    expect(l.count).toBe(1000);
    expect(l.summary()).toEqual({
      p50Ms: 500,
      p99Ms: 990,
      p999Ms: 999,
      maxMs: 1000,
      meanMs: 500.5,
    });
  });

  it("answers zeros when nothing was recorded, and one value for every percentile of one", () => {
    expect(new Latencies().summary()).toEqual({
      p50Ms: 0,
      p99Ms: 0,
      p999Ms: 0,
      maxMs: 0,
      meanMs: 0,
    });
    const one = new Latencies();
    one.record(2.5);
    expect(one.summary()).toEqual({ p50Ms: 2.5, p99Ms: 2.5, p999Ms: 2.5, maxMs: 2.5, meanMs: 2.5 });
  });

  it("sorts numerically, not as text", () => {
    expect(atRank(new Float64Array([2, 10, 9]).sort(), 50)).toBe(9);
  });
});
