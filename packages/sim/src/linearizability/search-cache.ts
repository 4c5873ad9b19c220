// The search's memory of configurations already explored. A configuration is (operations with a
// known output already linearized, operations with an unknown output already linearized, state).
//
// The known part is kept as "all of the first p operations (in invocation order) plus a few
// more": real time forces every operation that returned before a linearized one to be
// linearized too, so the extra few are only those overlapping the frontier, and the key stays
// short however long the history.
//
// The unknown part is compared by inclusion, not equality: linearizing an operation whose
// outcome is unknown only ever removes options (it cannot be undone, while leaving it out is
// always allowed, it never blocks anything), so a configuration is no better than an explored
// one with the same known part and state and a subset of its unknown part. Without this, every
// subset of the pending unknown operations would be a separate configuration to refute.

/** A set of indices 0..size-1 kept as a dense prefix plus the members above it. */
export class PrefixSet {
  private readonly member: Uint8Array;
  /** Every index below `prefix` is a member; `prefix` itself is not. */
  private prefix = 0;
  private readonly above = new Set<number>();

  constructor(size: number) {
    this.member = new Uint8Array(size);
  }

  add(i: number): void {
    this.member[i] = 1;
    if (i !== this.prefix) {
      this.above.add(i);
      return;
    }
    this.prefix++;
    while (this.member[this.prefix] === 1) {
      this.above.delete(this.prefix);
      this.prefix++;
    }
  }

  delete(i: number): void {
    this.member[i] = 0;
    if (i > this.prefix) {
      this.above.delete(i);
      return;
    }
    for (let j = i + 1; j < this.prefix; j++) this.above.add(j);
    this.prefix = i;
  }

  /** A string equal for equal sets. */
  key(): string {
    if (this.above.size === 0) return `${this.prefix}`;
    const rest = [...this.above].sort((a, b) => a - b);
    return `${this.prefix}+${rest.join(",")}`;
  }
}

export class ExploredConfigurations {
  private readonly seen = new Map<string, Uint32Array[]>();

  /**
   * Records the configuration and returns true, or returns false if an explored configuration
   * with the same known part and `rest` (the state and anything else the future depends on) and
   * a subset of `unknown` makes exploring it pointless.
   */
  visit(known: PrefixSet, unknown: Uint32Array, rest: string): boolean {
    const key = `${known.key()}|${rest}`;
    const explored = this.seen.get(key);
    if (explored === undefined) {
      this.seen.set(key, [unknown.slice()]);
      return true;
    }
    if (explored.some((subset) => isSubset(subset, unknown))) return false;
    explored.push(unknown.slice());
    return true;
  }
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let w = 0; w < a.length; w++) if ((a[w]! & ~b[w]!) !== 0) return false;
  return true;
}
