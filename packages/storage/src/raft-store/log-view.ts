// The in-memory side of a log store: the term of every entry, the index and term just before
// the first entry, and a cache of the newest entries. It answers the core's synchronous reads;
// entries older than the cache come from the backend's synchronous reader. Entries not yet
// durable are never evicted, because the backend cannot read them back yet.
import { type Entry, entrySize, RaftError } from "@d-engine/core";
import { StorageError } from "./errors.js";

/** Reads durable entries [lo, hi): at least as many as fit in maxBytes (more is fine). */
export type DurableReader = (lo: number, hi: number, maxBytes: number) => Entry[];

/** What a backend recovered on open. */
export interface RecoveredLog {
  /** The index and term of the last compacted entry (0, 0 for a log that was never compacted). */
  readonly snapIndex: number;
  readonly snapTerm: number;
  /** Terms of the entries snapIndex + 1 ... in order. */
  readonly terms: number[];
}

export class LogView {
  private snapIndex: number;
  private snapTerm: number;
  /** terms[i - termsBase] is the term of entry snapIndex + 1 + i (a prefix may be dead). */
  private terms: number[];
  private termsBase = 0;
  /** cache[i - cacheBase] is entry cacheFirst + i; the cache always ends at lastIndex. */
  private cache: Entry[] = [];
  private cacheBase = 0;
  private cacheFirst: number;
  private cacheBytes = 0;

  constructor(
    recovered: RecoveredLog,
    private readonly readDurable: DurableReader,
    /** Payload bytes of durable entries the cache keeps (entries not yet durable always stay). */
    private readonly cacheLimitBytes: number,
  ) {
    this.snapIndex = recovered.snapIndex;
    this.snapTerm = recovered.snapTerm;
    this.terms = recovered.terms;
    this.cacheFirst = this.lastIndex() + 1;
  }

  firstIndex(): number {
    return this.snapIndex + 1;
  }

  lastIndex(): number {
    return this.snapIndex + this.terms.length - this.termsBase;
  }

  term(index: number): number {
    if (index === this.snapIndex) return this.snapTerm;
    if (index < this.snapIndex) {
      throw new RaftError(
        "compacted",
        `term of ${index}: compacted, the log holds terms for ${this.snapIndex}..${this.lastIndex()}`,
      );
    }
    if (index > this.lastIndex()) {
      throw new RaftError(
        "unavailable",
        `term of ${index}: past the last index ${this.lastIndex()} (terms known for ${this.snapIndex}..${this.lastIndex()})`,
      );
    }
    return this.terms[this.termsBase + index - this.snapIndex - 1] as number;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const first = this.firstIndex();
    const last = this.lastIndex();
    if (lo < first) {
      throw new RaftError(
        "compacted",
        `entries [${lo}, ${hi}): ${lo} is compacted, the log holds ${first}..${last}`,
      );
    }
    if (hi > last + 1) {
      throw new RaftError(
        "unavailable",
        `entries [${lo}, ${hi}): ${hi - 1} is past the last index, the log holds ${first}..${last}`,
      );
    }
    if (lo >= hi) return [];
    const out: Entry[] = [];
    let size = 0;
    // Takes entries while the total stays within maxBytes, but always at least one (limitSize).
    const take = (e: Entry): boolean => {
      size += entrySize(e);
      if (size > maxBytes && out.length > 0) return false;
      out.push(e);
      return true;
    };
    if (lo < this.cacheFirst) {
      const upto = Math.min(hi, this.cacheFirst);
      const stored = this.readDurable(lo, upto, maxBytes);
      for (const e of stored) if (!take(e)) return out;
      if (out.length < upto - lo) return out;
      lo = upto;
    }
    for (let i = lo; i < hi; i++) {
      if (!take(this.cache[this.cacheBase + i - this.cacheFirst] as Entry)) break;
    }
    return out;
  }

  /** Applies an append; returns the entries that were not already compacted (what to persist). */
  append(entries: readonly Entry[]): readonly Entry[] {
    for (let i = 1; i < entries.length; i++) {
      const prev = entries[i - 1] as Entry;
      const e = entries[i] as Entry;
      if (e.index !== prev.index + 1) {
        throw new StorageError(
          "invalid-argument",
          `append: entries are not consecutive (${prev.index} is followed by ${e.index})`,
        );
      }
    }
    const skip = entries.length === 0 ? 0 : this.firstIndex() - (entries[0] as Entry).index;
    const ents = skip > 0 ? entries.slice(skip) : entries;
    if (ents.length === 0) return ents;
    const from = (ents[0] as Entry).index;
    if (from > this.lastIndex() + 1) {
      throw new StorageError(
        "invalid-argument",
        `append at ${from} leaves a gap after the last index ${this.lastIndex()}`,
      );
    }
    this.cut(from);
    for (const e of ents) {
      this.terms.push(e.term);
      this.cache.push(e);
      this.cacheBytes += entrySize(e);
    }
    return ents;
  }

  /** Removes entries from `from` on; returns whether anything was removed. */
  truncateSuffix(from: number): boolean {
    if (from < this.firstIndex()) {
      throw new StorageError(
        "invalid-argument",
        `truncate from ${from}: entries up to ${this.snapIndex} are compacted`,
      );
    }
    if (from > this.lastIndex()) return false;
    this.cut(from);
    return true;
  }

  /** Discards entries up to `index`; returns its term, or undefined if already compacted. */
  compact(index: number): number | undefined {
    if (index <= this.snapIndex) return undefined;
    if (index > this.lastIndex()) {
      throw new StorageError(
        "invalid-argument",
        `compact to ${index}: past the last index ${this.lastIndex()}`,
      );
    }
    const term = this.term(index);
    this.termsBase += index - this.snapIndex;
    this.snapIndex = index;
    this.snapTerm = term;
    while (this.cacheFirst <= index && this.cacheFirst < this.lastIndex() + 1)
      this.dropCacheFront();
    if (this.cacheFirst <= index) this.cacheFirst = index + 1;
    this.compactArrays();
    return term;
  }

  reset(index: number, term: number): void {
    this.snapIndex = index;
    this.snapTerm = term;
    this.terms = [];
    this.termsBase = 0;
    this.cache = [];
    this.cacheBase = 0;
    this.cacheBytes = 0;
    this.cacheFirst = index + 1;
  }

  /**
   * Drops the oldest cached entries while the cache is over its budget, but only entries below
   * `durableBelow`: the ones from there on may not be readable from the backend yet.
   */
  evict(durableBelow: number): void {
    while (this.cacheBytes > this.cacheLimitBytes && this.cacheFirst < durableBelow) {
      if (this.cacheFirst > this.lastIndex()) break;
      this.dropCacheFront();
    }
    this.compactArrays();
  }

  /** Removes entries from `from` (firstIndex <= from <= lastIndex + 1) on. */
  private cut(from: number): void {
    this.terms.length = this.termsBase + from - this.snapIndex - 1;
    if (from <= this.cacheFirst) {
      this.cache = [];
      this.cacheBase = 0;
      this.cacheBytes = 0;
      this.cacheFirst = from;
      return;
    }
    const keep = this.cacheBase + from - this.cacheFirst;
    for (let i = keep; i < this.cache.length; i++) {
      this.cacheBytes -= entrySize(this.cache[i] as Entry);
    }
    this.cache.length = keep;
  }

  private dropCacheFront(): void {
    const e = this.cache[this.cacheBase] as Entry;
    this.cacheBytes -= entrySize(e);
    this.cache[this.cacheBase] = undefined as unknown as Entry; // let it be collected
    this.cacheBase++;
    this.cacheFirst++;
  }

  /** Reclaims dead array prefixes once they are large, so compaction stays O(1) amortised. */
  private compactArrays(): void {
    if (this.termsBase > 4096 && this.termsBase * 2 > this.terms.length) {
      this.terms = this.terms.slice(this.termsBase);
      this.termsBase = 0;
    }
    if (this.cacheBase > 4096 && this.cacheBase * 2 > this.cache.length) {
      this.cache = this.cache.slice(this.cacheBase);
      this.cacheBase = 0;
    }
  }
}
