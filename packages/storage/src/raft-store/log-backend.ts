// What a log backend (memory, file, LMDB) implements under CachingLogStore: durable, ordered
// application of write groups, and synchronous reads of entries that are already durable.
import type { Entry } from "@d-engine/core";
import type { DurableReader, RecoveredLog } from "./log-view.js";

/** One write, as handed to the backend. Entries of an append are consecutive and not compacted. */
export type LogOp =
  /** Replace everything from entries[0].index on with `entries`. */
  | { readonly kind: "append"; readonly entries: readonly Entry[] }
  /** Remove entries from `from` on. */
  | { readonly kind: "truncate"; readonly from: number }
  /** Entries up to `index` (whose term is `term`) are covered by a snapshot: discard them. */
  | { readonly kind: "compact"; readonly index: number; readonly term: number }
  /** Discard everything; the log restarts after (index, term). */
  | { readonly kind: "reset"; readonly index: number; readonly term: number };

export interface LogBackend {
  /** What was on disk at open. */
  readonly recovered: RecoveredLog;
  /** Applies `ops` in order and makes them durable before resolving. */
  persist(ops: readonly LogOp[]): Promise<void>;
  /** Synchronous reads of durable entries. */
  readonly readDurable: DurableReader;
  /** Releases files (no writes are pending when this is called). */
  close(): Promise<void>;
  /** See LogStore.setInlineWriteBytes (backends without a thread-pool write leave it out). */
  setInlineWriteBytes?(maxBytes: number): void;
}

/** The first index an op writes or removes (for the cache's durability watermark). */
export function opFirstIndex(op: LogOp): number {
  switch (op.kind) {
    case "append":
      return (op.entries[0] as Entry).index;
    case "truncate":
      return op.from;
    case "compact":
    case "reset":
      return op.index + 1;
  }
}
