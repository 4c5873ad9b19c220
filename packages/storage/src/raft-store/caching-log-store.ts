// The LogStore every backend shares: reads come from the LogView (terms and recent entries in
// memory, older entries through the backend's synchronous reader), writes update the view at
// once and reach the backend in group commits.
import type { Entry } from "@d-engine/core";
import { StorageError } from "./errors.js";
import { type LogBackend, type LogOp, opFirstIndex } from "./log-backend.js";
import type { LogStore } from "./log-store.js";
import { LogView } from "./log-view.js";
import { GroupCommitQueue } from "./write-queue.js";

export interface CacheOptions {
  /** Payload bytes of durable entries kept in memory for reads (default 64 MiB). */
  readonly cacheBytes?: number;
}

export const DEFAULT_CACHE_BYTES = 64 * 1024 * 1024;

export class CachingLogStore implements LogStore {
  private readonly view: LogView;
  private readonly queue: GroupCommitQueue<LogOp>;
  /** Entries from this index on may still be on their way to disk (not readable back). */
  private unflushedFrom = Number.POSITIVE_INFINITY;
  private closed = false;

  constructor(
    private readonly backend: LogBackend,
    /** Names the store in errors. */
    private readonly what: string,
    options: CacheOptions = {},
  ) {
    this.view = new LogView(
      backend.recovered,
      backend.readDurable,
      options.cacheBytes ?? DEFAULT_CACHE_BYTES,
    );
    this.queue = new GroupCommitQueue((ops) => this.commit(ops), what);
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    return this.view.entries(lo, hi, maxBytes);
  }

  term(index: number): number {
    return this.view.term(index);
  }

  firstIndex(): number {
    return this.view.firstIndex();
  }

  lastIndex(): number {
    return this.view.lastIndex();
  }

  append(entries: readonly Entry[]): Promise<void> {
    return this.write(() => {
      const ents = this.view.append(entries);
      return ents.length === 0 ? undefined : { kind: "append", entries: ents };
    });
  }

  truncateSuffix(from: number): Promise<void> {
    return this.write(() =>
      this.view.truncateSuffix(from) ? { kind: "truncate", from } : undefined,
    );
  }

  compact(index: number): Promise<void> {
    return this.write(() => {
      const term = this.view.compact(index);
      return term === undefined ? undefined : { kind: "compact", index, term };
    });
  }

  reset(index: number, term: number): Promise<void> {
    return this.write(() => {
      this.view.reset(index, term);
      return { kind: "reset", index, term };
    });
  }

  setInlineWriteBytes(maxBytes: number): void {
    this.backend.setInlineWriteBytes?.(maxBytes);
  }

  sync(): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    return this.queue.drain();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.queue.drain();
    } finally {
      await this.backend.close();
    }
  }

  /** Checks state, applies a write to the view, queues what the backend must do. */
  private write(apply: () => LogOp | undefined): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    const failure = this.queue.failed();
    if (failure) return Promise.reject(failure);
    let op: LogOp | undefined;
    try {
      op = apply();
    } catch (e) {
      return Promise.reject(e);
    }
    // A write that changes nothing still waits for the writes before it, so that its promise
    // keeps the meaning "everything called so far is durable".
    if (op === undefined) return this.queue.drain();
    this.unflushedFrom = Math.min(this.unflushedFrom, opFirstIndex(op));
    return this.queue.push(op);
  }

  private async commit(ops: readonly LogOp[]): Promise<void> {
    await this.backend.persist(ops);
    let from = Number.POSITIVE_INFINITY;
    for (const op of this.queue.queued()) from = Math.min(from, opFirstIndex(op));
    this.unflushedFrom = from;
    this.view.evict(from);
  }

  private closedError(): StorageError {
    return new StorageError("closed", `${this.what} is closed`);
  }
}
