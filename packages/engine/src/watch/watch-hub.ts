// The watch hub: the state machine's committed events to every matching watcher, on whichever
// node the watch runs (a follower applies the same entries in the same order, so it emits the
// same events). A watcher that starts in the past catches up from the stored history
// (KvReader.eventsSince) one page at a time as its consumer pulls, ignoring live events until it
// has read history up to the current revision; then it takes live events. Each watcher keeps
// `next`, the next revision it needs: live batches below it are duplicates of what history gave,
// and a live batch above it is a gap (a snapshot was installed: its revisions were never
// emitted), which sends the watcher back to history. So the seam has neither a gap nor a
// duplicate. A consumer too slow for its buffer is canceled ("slow consumer") after the batches
// it already has; never skipped.

import {
  CompactedError,
  prefixEnd,
  toBytes,
  type WatchBatch,
  WatchCanceledError,
  type WatchEvent,
  type Watcher,
  type WatchOptions,
} from "@d-engine/client";
import { compareBytes, isKvError, type KvEvent, type KvEventListener } from "@d-engine/storage";

/** What the hub reads: the local state machine (a KvStateMachine fits). */
export interface WatchSource {
  revision(): number;
  compactRevision(): number;
  eventsSince(
    startRevision: number,
    limit?: number,
  ): readonly { readonly revision: number; readonly events: readonly KvEvent[] }[];
  onEvents(listener: KvEventListener): () => void;
}

export interface WatchHubOptions {
  /** Events a watcher may hold undelivered before it is canceled as a slow consumer. */
  readonly maxBufferedEvents?: number;
  /** How often watchers that asked for progressNotify get a progress batch while idle (ms). */
  readonly progressIntervalMs?: number;
  /** Revisions read from history per page while catching up. */
  readonly historyPageRevisions?: number;
}

export const DEFAULT_WATCH_HUB_OPTIONS = {
  maxBufferedEvents: 10_000,
  progressIntervalMs: 10_000,
  historyPageRevisions: 256,
} as const;

/** Pages of history read in a row before the catch-up lets other work run. */
const PAGES_PER_TURN = 8;

export class WatchHub {
  private readonly watchers = new Set<HubWatcher>();
  private readonly opts: Required<WatchHubOptions>;
  private readonly unsubscribe: () => void;
  private progressTimer: ReturnType<typeof setInterval> | undefined;
  private closedReason: string | undefined;
  private readonly closeListeners = new Set<(reason: string) => void>();

  constructor(
    readonly source: WatchSource,
    opts: WatchHubOptions = {},
  ) {
    this.opts = { ...DEFAULT_WATCH_HUB_OPTIONS, ...opts };
    this.unsubscribe = source.onEvents((batch) => {
      for (const w of this.watchers) w.onLive(batch.revision, batch.events);
    });
  }

  /** Open watchers (for metrics). */
  get size(): number {
    return this.watchers.size;
  }

  /** Starts a watch. Invalid options throw InvalidArgumentError at once. */
  watch(opts: WatchOptions): Watcher {
    const range = watchRange(opts);
    const w = new HubWatcher(this, range, opts, this.opts);
    if (this.closedReason !== undefined) {
      w.fail(new WatchCanceledError(this.closedReason));
      return w;
    }
    this.watchers.add(w);
    w.start();
    if (opts.progressNotify) this.startProgressTimer();
    return w;
  }

  /** A progress batch to every idle, caught-up watcher that asked for progressNotify. */
  notifyProgress(): void {
    for (const w of this.watchers) if (w.progressNotify) w.progressIfIdle();
  }

  /** Cancels every watcher with `reason` (the node stops); later watches are canceled at once. */
  close(reason = "the node stopped"): void {
    if (this.closedReason !== undefined) return;
    this.closedReason = reason;
    this.unsubscribe();
    if (this.progressTimer !== undefined) clearInterval(this.progressTimer);
    for (const w of [...this.watchers]) w.fail(new WatchCanceledError(reason));
    for (const l of [...this.closeListeners]) l(reason);
    this.closeListeners.clear();
  }

  /**
   * Calls `listener` with the reason when the hub closes (at once if it is closed); returns the
   * unsubscribe. Other watches of the node (membership) end with the hub.
   */
  onClose(listener: (reason: string) => void): () => void {
    if (this.closedReason !== undefined) {
      listener(this.closedReason);
      return () => {};
    }
    this.closeListeners.add(listener);
    return () => {
      this.closeListeners.delete(listener);
    };
  }

  /** @internal */
  remove(w: HubWatcher): void {
    this.watchers.delete(w);
  }

  private startProgressTimer(): void {
    if (this.progressTimer !== undefined) return;
    this.progressTimer = setInterval(() => this.notifyProgress(), this.opts.progressIntervalMs);
    this.progressTimer.unref?.();
  }
}

interface KeyRange {
  readonly key: Uint8Array;
  /** undefined: only `key`; null: every key from `key` on. */
  readonly end: Uint8Array | undefined | null;
}

/** etcd's key/range_end from the options (prefix, key alone, or [key, rangeEnd)). */
export function watchRange(o: WatchOptions): KeyRange {
  if (o.prefix !== undefined) {
    const p = toBytes(o.prefix);
    if (p.length === 0) return { key: Uint8Array.of(0), end: null };
    const end = prefixEnd(p);
    // prefixEnd of 0xff... is "\0": every key from the prefix on.
    return { key: p, end: end.length === 1 && end[0] === 0 ? null : end };
  }
  const key = o.key === undefined ? new Uint8Array(0) : toBytes(o.key);
  if (o.rangeEnd === undefined) return { key, end: undefined };
  const end = toBytes(o.rangeEnd);
  if (end.length === 0) return { key, end: undefined };
  if (end.length === 1 && end[0] === 0) return { key, end: null };
  return { key, end };
}

function inRange(r: KeyRange, k: Uint8Array): boolean {
  if (r.end === undefined) return compareBytes(k, r.key) === 0;
  if (compareBytes(k, r.key) < 0) return false;
  return r.end === null || compareBytes(k, r.end) < 0;
}

class HubWatcher implements Watcher {
  /** The next revision this watcher needs. */
  private next = 0;
  /** Taking live events (else catching up from history). */
  private live = false;
  private readonly buffer: WatchBatch[] = [];
  private buffered = 0;
  /** Set once the watch ends: after the buffer drains, the iterator throws it (or ends). */
  private end: { error?: Error } | undefined;
  private wake: (() => void) | undefined;
  private progressWanted = false;
  private iterating = false;
  readonly progressNotify: boolean;
  private readonly removeAbort: (() => void) | undefined;

  constructor(
    private readonly hub: WatchHub,
    private readonly range: KeyRange,
    private readonly opts: WatchOptions,
    private readonly limits: Required<WatchHubOptions>,
  ) {
    this.progressNotify = opts.progressNotify ?? false;
    const signal = opts.signal;
    if (signal !== undefined) {
      const onAbort = () => this.cancel();
      signal.addEventListener("abort", onAbort, { once: true });
      this.removeAbort = () => signal.removeEventListener("abort", onAbort);
      if (signal.aborted) queueMicrotask(onAbort);
    }
  }

  start(): void {
    const src = this.hub.source;
    const start = this.opts.startRevision ?? 0;
    if (!Number.isSafeInteger(start) || start < 0) {
      this.fail(new WatchCanceledError(`invalid start revision ${start}`));
      return;
    }
    if (start === 0) {
      this.next = src.revision() + 1;
      this.live = true;
      return;
    }
    const compacted = src.compactRevision();
    if (start <= compacted) {
      this.fail(new WatchCanceledError("compacted", compacted));
      return;
    }
    this.next = start;
  }

  // ---- from the hub

  onLive(revision: number, events: readonly KvEvent[]): void {
    if (this.end !== undefined || !this.live) return;
    if (revision < this.next) return; // history delivered it already
    if (revision > this.next) {
      // Revisions arrived without events (a snapshot was installed): read them from history.
      this.live = false;
      this.wake?.();
      return;
    }
    this.next = revision + 1;
    this.deliver(revision, events);
  }

  progressIfIdle(): void {
    if (this.end === undefined && this.live && this.buffer.length === 0) this.pushProgress();
  }

  fail(error: Error): void {
    if (this.end !== undefined) return;
    this.end = { error };
    this.stop();
  }

  // ---- Watcher

  requestProgress(): void {
    if (this.end !== undefined) return;
    if (this.live) this.pushProgress();
    else this.progressWanted = true;
  }

  cancel(): void {
    if (this.end !== undefined) {
      // Already ending (e.g. slow consumer): the consumer wants no more, not even the error.
      this.buffer.length = 0;
      this.end = {};
      this.wake?.();
      return;
    }
    this.end = {};
    this.buffer.length = 0;
    this.stop();
  }

  [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
    if (this.iterating) throw new Error("a watcher can be iterated once");
    this.iterating = true;
    return {
      next: () => this.pull(),
      return: async () => {
        this.cancel();
        return { done: true, value: undefined };
      },
    };
  }

  // ---- internals

  private stop(): void {
    this.hub.remove(this);
    this.removeAbort?.();
    this.wake?.();
  }

  private async pull(): Promise<IteratorResult<WatchBatch>> {
    let pages = 0;
    for (;;) {
      const b = this.buffer.shift();
      if (b !== undefined) {
        this.buffered -= b.events.length;
        return { done: false, value: b };
      }
      if (this.end !== undefined) {
        if (this.end.error !== undefined) {
          const e = this.end.error;
          this.end = {};
          throw e;
        }
        return { done: true, value: undefined };
      }
      if (!this.live) {
        if (++pages > PAGES_PER_TURN) {
          pages = 0;
          await new Promise((r) => setImmediate(r));
          continue;
        }
        this.catchUp();
        continue;
      }
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }

  /** Reads one page of history from `next`; goes live once it reached the current revision. */
  private catchUp(): void {
    const src = this.hub.source;
    let page: ReturnType<WatchSource["eventsSince"]>;
    try {
      page = src.eventsSince(this.next, this.limits.historyPageRevisions);
    } catch (e) {
      if (isKvError(e, "compacted") || e instanceof CompactedError) {
        this.fail(new WatchCanceledError("compacted", src.compactRevision()));
      } else {
        this.fail(e as Error);
      }
      return;
    }
    for (const b of page) {
      // A full buffer while catching up only pauses the catch-up: the rest is read again when
      // the consumer has taken what it holds.
      if (!this.deliver(b.revision, b.events)) return;
      this.next = b.revision + 1;
    }
    const last = page[page.length - 1];
    if (last === undefined || last.revision >= src.revision()) {
      this.live = true;
      if (this.progressWanted) {
        this.progressWanted = false;
        this.pushProgress();
      }
    }
  }

  /** Buffers the matching events; false if the buffer is too full to take them. */
  private deliver(revision: number, events: readonly KvEvent[]): boolean {
    const out: WatchEvent[] = [];
    const { noPut, noDelete, prevKv } = this.opts;
    for (const e of events) {
      if ((e.type === "put" && noPut) || (e.type === "delete" && noDelete)) continue;
      if (!inRange(this.range, e.kv.key)) continue;
      out.push(
        prevKv && e.prevKv !== undefined
          ? { type: e.type, kv: e.kv, prevKv: e.prevKv }
          : { type: e.type, kv: e.kv },
      );
    }
    if (out.length === 0) return true;
    // One revision larger than the bound is taken into an empty buffer: a big transaction must
    // not cancel every watcher that keeps up.
    if (this.buffered > 0 && this.buffered + out.length > this.limits.maxBufferedEvents) {
      if (!this.live) return false;
      this.fail(
        new WatchCanceledError(
          "slow consumer",
          0,
          `the watch was canceled: slow consumer (more than ${this.limits.maxBufferedEvents} events undelivered)`,
        ),
      );
      return false;
    }
    this.buffer.push({ revision, events: out, progress: false });
    this.buffered += out.length;
    this.wake?.();
    return true;
  }

  private pushProgress(): void {
    const revision = Math.min(this.next - 1, this.hub.source.revision());
    this.buffer.push({ revision, events: [], progress: true });
    this.wake?.();
  }
}
