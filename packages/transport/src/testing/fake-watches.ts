// Watches for the transport's FakeApi: a log of revisions that tests append to (emit), replayed
// from a start revision and then delivered live, with the key selection and filters of the
// real hub, on-demand progress, and hooks to end watches the ways a node does (compacted start,
// slow consumer, node stopped). Not the engine's hub: just enough to test the wire.
import {
  type MemberList,
  prefixEnd,
  toBytes,
  type WatchBatch,
  WatchCanceledError,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from "@d-engine/client";

function cmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

function matcher(o: WatchOptions): (k: Uint8Array) => boolean {
  if (o.prefix !== undefined) {
    const p = toBytes(o.prefix);
    const end = prefixEnd(p);
    const all = end.length === 1 && end[0] === 0;
    return (k) => cmp(k, p) >= 0 && (all || cmp(k, end) < 0);
  }
  const key = toBytes(o.key ?? "");
  const end = o.rangeEnd === undefined ? undefined : toBytes(o.rangeEnd);
  if (end === undefined || end.length === 0) return (k) => cmp(k, key) === 0;
  const all = end.length === 1 && end[0] === 0;
  return (k) => cmp(k, key) >= 0 && (all || cmp(k, end) < 0);
}

interface Open {
  push(b: WatchBatch): void;
  end(e?: Error): void;
}

export class FakeWatches {
  /** Every revision's events, in order. */
  readonly log: { revision: number; events: WatchEvent[] }[] = [];
  compactRevision = 0;
  /** Watch options as the API received them (minus the signal). */
  readonly requests: WatchOptions[] = [];
  private readonly open = new Set<Open>();
  private memberLists: MemberList[] = [];
  private memberWaiters: (() => void)[] = [];

  get revision(): number {
    return this.log[this.log.length - 1]?.revision ?? 0;
  }

  get openCount(): number {
    return this.open.size;
  }

  /** Appends a revision and delivers it to the matching open watches. */
  emit(events: WatchEvent[]): number {
    const revision = this.revision + 1;
    this.log.push({ revision, events });
    for (const o of this.open) o.push({ revision, events, progress: false });
    return revision;
  }

  /** Ends every open watch with `error` (absent: a plain end of the stream). */
  endAll(error?: Error): void {
    for (const o of [...this.open]) o.end(error);
  }

  /** A membership change (watchMembers streams see it). */
  members(list: MemberList): void {
    this.memberLists.push(list);
    for (const w of this.memberWaiters.splice(0)) w();
  }

  watch(opts: WatchOptions): Watcher {
    const { signal, ...rest } = opts;
    this.requests.push(rest);
    const match = matcher(opts);
    const queue: WatchBatch[] = [];
    let ended: { error?: Error } | undefined;
    let wake: (() => void) | undefined;
    let next = opts.startRevision || this.revision + 1;
    const filter = (b: WatchBatch): WatchBatch | undefined => {
      if (b.progress) return b;
      const events = b.events
        .filter((e) => match(e.kv.key))
        .filter((e) => !(e.type === "put" && opts.noPut) && !(e.type === "delete" && opts.noDelete))
        .map((e) => (opts.prevKv || !e.prevKv ? e : { type: e.type, kv: e.kv }));
      return events.length ? { ...b, events } : undefined;
    };
    const o: Open = {
      push: (b) => {
        if (ended || (!b.progress && b.revision < next)) return;
        if (!b.progress) next = b.revision + 1;
        const f = filter(b);
        if (f) queue.push(f);
        wake?.();
      },
      end: (error) => {
        if (ended) return;
        ended = error ? { error } : {};
        this.open.delete(o);
        wake?.();
      },
    };
    if (opts.startRevision && opts.startRevision <= this.compactRevision) {
      o.end(new WatchCanceledError("compacted", this.compactRevision));
    } else {
      this.open.add(o);
      for (const b of this.log) if (b.revision >= next) o.push({ ...b, progress: false });
    }
    signal?.addEventListener("abort", () => o.end(), { once: true });
    return {
      requestProgress: () => o.push({ revision: next - 1, events: [], progress: true }),
      cancel: () => {
        queue.length = 0;
        o.end();
      },
      [Symbol.asyncIterator]: () => ({
        next: async (): Promise<IteratorResult<WatchBatch>> => {
          for (;;) {
            const b = queue.shift();
            if (b) return { done: false, value: b };
            if (ended) {
              const e = ended.error;
              ended = {};
              if (e) throw e;
              return { done: true, value: undefined };
            }
            await new Promise<void>((r) => {
              wake = r;
            });
          }
        },
        return: async () => {
          o.end();
          return { done: true, value: undefined };
        },
      }),
    };
  }

  watchMembers(current: () => MemberList, signal?: AbortSignal): AsyncIterable<MemberList> {
    const self = this;
    return (async function* () {
      let seen = self.memberLists.length;
      yield current();
      while (!signal?.aborted) {
        while (seen < self.memberLists.length) yield self.memberLists[seen++] as MemberList;
        await new Promise<void>((r) => {
          self.memberWaiters.push(r);
          signal?.addEventListener("abort", () => r(), { once: true });
        });
      }
    })();
  }
}
