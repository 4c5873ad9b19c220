// Every operation's latency, kept exactly in one growing Float64Array: recording is a store, and
// the percentiles come from sorting once at the end (exact, nearest rank). An HDR histogram
// (hdr-histogram-js, used before) cost ~0.1 µs per record in JavaScript, a tenth of an in-process
// read; a run's latencies (8 bytes each, 800 KB per 100,000 operations) fit in memory easily.

export interface LatencySummary {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly p999Ms: number;
  readonly maxMs: number;
  readonly meanMs: number;
}

export class Latencies {
  private ms: Float64Array;
  private n = 0;

  /** `expected`: how many operations the run will record (more still fit: the array grows). */
  constructor(expected = 1024) {
    this.ms = new Float64Array(Math.max(16, expected));
  }

  /** Records one operation's latency, given in milliseconds. */
  record(ms: number): void {
    if (this.n === this.ms.length) this.grow();
    this.ms[this.n++] = ms;
  }

  get count(): number {
    return this.n;
  }

  summary(): LatencySummary {
    const n = this.n;
    if (n === 0) return { p50Ms: 0, p99Ms: 0, p999Ms: 0, maxMs: 0, meanMs: 0 };
    const sorted = this.ms.slice(0, n).sort();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i] as number;
    return {
      p50Ms: atRank(sorted, 50),
      p99Ms: atRank(sorted, 99),
      p999Ms: atRank(sorted, 99.9),
      maxMs: sorted[n - 1] as number,
      meanMs: sum / n,
    };
  }

  private grow(): void {
    const bigger = new Float64Array(this.ms.length * 2);
    bigger.set(this.ms);
    this.ms = bigger;
  }
}

/** The nearest-rank percentile `p` of ascending `sorted` (not empty). */
export function atRank(sorted: Float64Array, p: number): number {
  // The small tolerance: 99.9 / 100 * 1000 is 999.0000000000001 in floating point, not 999.
  const rank = Math.ceil((p / 100) * sorted.length - 1e-9);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
}
