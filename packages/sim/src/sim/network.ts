// The simulated network. Every link has its own base latency plus per-message jitter, so messages
// on one link and across links reorder; messages can be dropped or duplicated; links can be cut
// in one direction (one-way partitions) or both. Each delivery gets its own copy of the payload,
// made when it is sent: receivers never share objects with the sender or with each other.
import type { Entry, Message, Snapshot } from "@d-engine/core";
import type { EventQueue } from "./event-queue.js";
import type { SimRng } from "./rng.js";

export interface NetworkFaults {
  /** Smallest base latency of a link (microseconds). */
  readonly minDelayUs: number;
  /** Largest latency of a message, jitter included (microseconds). */
  readonly maxDelayUs: number;
  /** Probability that a message is lost. */
  readonly dropRate: number;
  /** Probability that a message is delivered twice. */
  readonly dupRate: number;
  /** Probability that a message is held up for up to `slowMaxUs` more. */
  readonly slowRate: number;
  readonly slowMaxUs: number;
}

export const QUIET_NETWORK: NetworkFaults = {
  minDelayUs: 100,
  maxDelayUs: 1000,
  dropRate: 0,
  dupRate: 0,
  slowRate: 0,
  slowMaxUs: 0,
};

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  cut: number;
}

function linkKey(from: number, to: number): number {
  return from * 65536 + to;
}

export class Network<P> {
  faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, cut: 0 };
  /** Cut links, each with the number of partitions cutting it. */
  private readonly cuts = new Map<number, number>();
  private readonly partitions = new Map<number, number[]>();
  private partitionIds = 0;
  private readonly base = new Map<number, number>();

  constructor(
    private readonly queue: EventQueue,
    private readonly rng: SimRng,
    faults: NetworkFaults,
    /** Called at delivery time with the receiver's own copy. */
    private readonly deliver: (from: number, to: number, payload: P) => void,
    private readonly copy: (payload: P) => P,
  ) {
    this.faults = faults;
  }

  /**
   * Sends `payload`; it arrives later (maybe twice, maybe never). Returns false if the link is
   * cut (a transport notices a dead connection; it does not notice a lost packet).
   */
  send(from: number, to: number, payload: P): boolean {
    this.stats.sent++;
    if (this.isCut(from, to)) {
      this.stats.cut++;
      return false;
    }
    const f = this.faults;
    if (this.rng.chance(f.dropRate)) {
      this.stats.dropped++;
      return true;
    }
    const copies = this.rng.chance(f.dupRate) ? 2 : 1;
    if (copies === 2) this.stats.duplicated++;
    for (let i = 0; i < copies; i++) {
      const own = this.copy(payload);
      this.queue.after(this.delay(from, to), () => {
        // A partition that starts while a message is in flight loses it.
        if (this.isCut(from, to)) {
          this.stats.cut++;
          return;
        }
        this.stats.delivered++;
        this.deliver(from, to, own);
      });
    }
    return true;
  }

  private delay(from: number, to: number): number {
    const f = this.faults;
    const key = linkKey(from, to);
    let base = this.base.get(key);
    if (base === undefined) {
      // Links differ: some are near, some far. Half the latency budget at most is the base.
      base = this.rng.range(f.minDelayUs, Math.max(f.minDelayUs, Math.floor(f.maxDelayUs / 2)));
      this.base.set(key, base);
    }
    const jitter = this.rng.nextInt(Math.max(1, f.maxDelayUs - base));
    const slow = this.rng.chance(f.slowRate) ? this.rng.nextInt(Math.max(1, f.slowMaxUs)) : 0;
    return base + jitter + slow;
  }

  isCut(from: number, to: number): boolean {
    return this.cuts.size > 0 && this.cuts.has(linkKey(from, to));
  }

  /**
   * Cuts the given directed links until `restore(id)` (or `heal()`). Partitions may overlap: a
   * link stays cut while any partition that cut it is in force.
   */
  cut(links: readonly (readonly [number, number])[]): number {
    const keys: number[] = [];
    for (const [from, to] of links) {
      if (from === to) continue;
      const k = linkKey(from, to);
      keys.push(k);
      this.cuts.set(k, (this.cuts.get(k) ?? 0) + 1);
    }
    const id = ++this.partitionIds;
    this.partitions.set(id, keys);
    return id;
  }

  /** Lifts one partition. */
  restore(id: number): void {
    const keys = this.partitions.get(id);
    if (!keys) return;
    this.partitions.delete(id);
    for (const k of keys) {
      const n = (this.cuts.get(k) ?? 1) - 1;
      if (n <= 0) this.cuts.delete(k);
      else this.cuts.set(k, n);
    }
  }

  /** Drops everything sent from `from` to `to` (one direction only). */
  cutOneWay(from: number, to: number): number {
    return this.cut([[from, to]]);
  }

  /** Cuts both directions between every node of `a` and every node of `b`. */
  partition(a: readonly number[], b: readonly number[]): number {
    const links: [number, number][] = [];
    for (const x of a) {
      for (const y of b) {
        links.push([x, y], [y, x]);
      }
    }
    return this.cut(links);
  }

  /** Cuts `id` off from every node in `others`, both directions. */
  isolate(id: number, others: readonly number[]): number {
    return this.partition([id], others);
  }

  /** Lifts every partition. */
  heal(): void {
    this.cuts.clear();
    this.partitions.clear();
  }

  get cutLinks(): number {
    return this.cuts.size;
  }
}

/** A deep copy of a Raft message: entries, payloads, context and snapshot are all fresh. */
export function copyMessage(m: Message): Message {
  const copy: Message = {
    ...m,
    entries: m.entries.length === 0 ? [] : m.entries.map(copyEntry),
    context: m.context.slice(),
  };
  if (m.snapshot) return { ...copy, snapshot: copySnapshot(m.snapshot) };
  return copy;
}

export function copyEntry(e: Entry): Entry {
  return { term: e.term, index: e.index, type: e.type, data: e.data.slice() };
}

export function copySnapshot(s: Snapshot): Snapshot {
  const cs = s.metadata.confState;
  return {
    metadata: {
      index: s.metadata.index,
      term: s.metadata.term,
      confState: {
        voters: [...cs.voters],
        learners: [...cs.learners],
        votersOutgoing: [...cs.votersOutgoing],
        learnersNext: [...cs.learnersNext],
        autoLeave: cs.autoLeave,
      },
    },
    data: s.data.slice(),
  };
}
