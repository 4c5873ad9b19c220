import { describe, expect, it } from "vitest";
import { type Rng, seededRng } from "./rng.js";

const draws = (rng: Rng, n: number, count: number): number[] =>
  Array.from({ length: count }, () => rng.nextInt(n));

describe("seededRng", () => {
  it("is deterministic per seed", () => {
    for (const seed of [0, 1, 42, 0xffffffff]) {
      expect(draws(seededRng(seed), 1_000_000, 50)).toEqual(draws(seededRng(seed), 1_000_000, 50));
    }
  });

  it("differs across seeds, including neighbouring ones", () => {
    const seqs = [0, 1, 2, 3, 1000].map((s) => draws(seededRng(s), 1_000_000, 20).join(","));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it("nextInt(n) stays in [0, n) and returns integers", () => {
    const rng = seededRng(7);
    for (const n of [1, 2, 3, 10, 1000, 2 ** 31, 2 ** 32]) {
      const bad = draws(rng, n, 2000).filter((x) => !Number.isInteger(x) || x < 0 || x >= n);
      expect(bad, `n = ${n}`).toEqual([]);
    }
  });

  it("nextInt(1) is always 0", () => {
    expect(new Set(draws(seededRng(3), 1, 100))).toEqual(new Set([0]));
  });

  it("is roughly uniform (chi-square over 20 buckets, fixed seed 12345)", () => {
    const buckets = 20;
    const n = 100_000;
    const counts = new Array<number>(buckets).fill(0);
    const rng = seededRng(12345);
    for (let i = 0; i < n; i++) {
      const b = rng.nextInt(buckets);
      counts[b] = (counts[b] as number) + 1;
    }
    const expected = n / buckets;
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    // 19 degrees of freedom: the 99.9th percentile is about 43.8.
    expect(chi2).toBeLessThan(43.8);
    // A constant or badly skewed generator would fail this by orders of magnitude.
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.9);
  });

  it("rejects n <= 0 and non-integers", () => {
    const rng = seededRng(1);
    for (const n of [0, -1, 1.5, Number.NaN]) {
      expect(() => rng.nextInt(n)).toThrow(RangeError);
    }
  });
});
