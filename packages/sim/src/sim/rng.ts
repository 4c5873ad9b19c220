// The simulator's only source of randomness: a seeded sfc32 generator. Every decision of a run
// (cluster shape, faults, delays, workload) is drawn from streams forked off the seed, so a seed
// replays exactly. Separate streams per concern keep one part's draws from shifting another's.

/** Mixes two 32-bit values into a new seed (splitmix-style finalizer). */
export function mixSeed(a: number, b: number): number {
  let z = (Math.imul(a >>> 0, 0x9e3779b1) ^ (b >>> 0)) >>> 0;
  z = (z + 0x7f4a7c15) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

export class SimRng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  readonly seed: number;

  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.a = mixSeed(this.seed, 1);
    this.b = mixSeed(this.seed, 2);
    this.c = mixSeed(this.seed, 3);
    this.d = 1;
    for (let i = 0; i < 12; i++) this.next32();
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  next32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next32() / 0x100000000;
  }

  /** An integer in [0, n). Implements the core's Rng interface. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new RangeError(`nextInt(n) needs n >= 1, got ${n}`);
    return Math.floor(this.float() * n);
  }

  /** An integer in [lo, hi], both included. */
  range(lo: number, hi: number): number {
    return lo + this.nextInt(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError("pick from an empty list");
    return items[this.nextInt(items.length)] as T;
  }

  /** Picks with the given weights (non-negative, not all zero). */
  weighted<T>(items: readonly (readonly [T, number])[]): T {
    let total = 0;
    for (const [, w] of items) total += w;
    let x = this.float() * total;
    for (const [item, w] of items) {
      if (x < w) return item;
      x -= w;
    }
    return (items[items.length - 1] as readonly [T, number])[0];
  }

  /** An independent stream derived from this generator's seed and a label. */
  fork(label: number): SimRng {
    return new SimRng(mixSeed(this.seed, label));
  }
}
