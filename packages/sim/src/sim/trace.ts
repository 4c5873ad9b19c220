// A run's fingerprint: FNV-1a over a canonical stream of what happened (every delivery, tick,
// persist, apply, crash, client answer). Two runs of one seed must produce the same hash; any
// divergence (a stray Math.random, iteration over an unordered source) changes it.

const FNV_PRIME = 0x01000193;

export class Trace {
  private h1 = 0x811c9dc5;
  private h2 = 0x050c5d1f;
  /** Number of records fed in. */
  records = 0;

  constructor(
    /** Receives one human-readable line per record when replaying verbosely. */
    private readonly sink?: (line: string) => void,
  ) {}

  get verbose(): boolean {
    return this.sink !== undefined;
  }

  private mix(x: number): void {
    // Feed the 32-bit value byte by byte into two FNV-1a lanes (different offsets) for 64 bits.
    for (let i = 0; i < 4; i++) {
      const byte = (x >>> (i * 8)) & 0xff;
      this.h1 = Math.imul(this.h1 ^ byte, FNV_PRIME) >>> 0;
      this.h2 = Math.imul(this.h2 ^ (byte ^ 0x5a), FNV_PRIME) >>> 0;
    }
  }

  /**
   * Records an event: a kind code, the simulated time and numeric details. `describe` builds the
   * readable line only when a sink is attached, so normal runs pay nothing for it.
   */
  add(kind: number, time: number, details: readonly number[], describe?: () => string): void {
    this.records++;
    this.mix(kind);
    this.mix(time);
    this.mix(Math.floor(time / 0x100000000));
    for (const d of details) this.mix(d);
    if (this.sink && describe) this.sink(`t=${(time / 1000).toFixed(3)}ms ${describe()}`);
  }

  /** A line for verbose replays that does not enter the hash. */
  note(time: number, text: string): void {
    if (this.sink) this.sink(`t=${(time / 1000).toFixed(3)}ms ${text}`);
  }

  hash(): string {
    return this.h1.toString(16).padStart(8, "0") + this.h2.toString(16).padStart(8, "0");
  }
}

/** FNV-1a (32-bit) of bytes, seeded with `h` so hashes can be chained. */
export function fnv1a(bytes: Uint8Array, h = 0x811c9dc5): number {
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ (bytes[i] as number), FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** Chains a number into an FNV-1a hash. */
export function fnvNumber(x: number, h: number): number {
  for (let i = 0; i < 4; i++) h = Math.imul(h ^ ((x >>> (i * 8)) & 0xff), FNV_PRIME) >>> 0;
  return h >>> 0;
}

/** Kind codes of trace records. */
export const TraceKind = {
  tick: 1,
  deliver: 2,
  ready: 3,
  fsync: 4,
  apply: 5,
  crash: 6,
  restart: 7,
  pause: 8,
  resume: 9,
  request: 10,
  response: 11,
  fault: 12,
  conf: 13,
  phase: 14,
  snapshot: 15,
  stop: 16,
} as const;
