// A small seeded generator (mulberry32) for the package's tests: the same cases on every run,
// from the seed the test prints. (The client does not depend on @d-engine/core, whose seededRng
// the other packages' tests use.) Not for anything that needs real randomness.
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
