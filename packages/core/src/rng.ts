// Randomness enters the core only through this interface, so every run can be replayed from a
// seed. The core uses it for randomized election timeouts.

export interface Rng {
  /** A uniformly distributed integer in [0, n). */
  nextInt(n: number): number;
}

/**
 * A small, fast seeded PRNG (sfc32, seeded through splitmix32). Good enough for timeouts and
 * simulations; not for cryptography.
 */
export function seededRng(seed: number): Rng {
  let s = seed >>> 0;
  const splitmix = () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const next32 = () => {
    const t = (((a + b) >>> 0) + d) >>> 0;
    d = (d + 1) >>> 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) >>> 0;
    c = ((c << 21) | (c >>> 11)) >>> 0;
    c = (c + t) >>> 0;
    return t >>> 0;
  };
  for (let i = 0; i < 12; i++) next32();
  return {
    nextInt(n: number): number {
      if (!Number.isInteger(n) || n <= 0) throw new RangeError(`nextInt(n) needs n >= 1, got ${n}`);
      return Math.floor((next32() / 0x100000000) * n);
    },
  };
}
