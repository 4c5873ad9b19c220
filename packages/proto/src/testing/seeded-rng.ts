// A small seeded generator (mulberry32) for tests: the same cases on every run, from the seed the
// test prints. Here rather than @d-engine/core's seededRng because the client, whose tests use it,
// does not depend on the core. Not for anything that needs real randomness.
export interface SeededRng {
  /** A whole number in [0, n). */
  nextInt(n: number): number;
}

export function seededRng(seed: number): SeededRng {
  let a = seed >>> 0;
  return {
    nextInt(n: number): number {
      a = (a + 0x6d2b79f5) >>> 0;
      let t = a;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    },
  };
}
