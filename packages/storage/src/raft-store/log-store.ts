// The durable Raft log. Its reads are the core's synchronous LogStorage reads (the core never
// waits): every backend keeps the terms and the recent entries in memory and reads older entries
// synchronously. Its writes are asynchronous and resolve once durable.
import type { Entry, LogStorage } from "@d-engine/core";

/** The synchronous reads the core makes of the log (LogStorage without hard state and snapshot). */
export type LogReads = Pick<LogStorage, "entries" | "term" | "firstIndex" | "lastIndex">;

/**
 * A Raft log: entries [firstIndex, lastIndex], plus the index and term of the entry just before
 * firstIndex (the last one a snapshot covers), so that term(firstIndex - 1) answers.
 *
 * Reads see every write as soon as it is called, before it is durable (read your writes): the
 * core reads only what it has been told is stable, and a writer must be able to build on an
 * append still in flight. Writes take effect on disk in the order they were called; each returns
 * a promise that resolves once that write and every write before it are durable (fsynced).
 * Writes called while an fsync is in flight are grouped into the next one (group commit).
 *
 * If a write fails, what reached the disk is unknown: the store rejects that write and every
 * write after it with a StorageError "io", and must be reopened.
 */
export interface LogStore extends LogReads {
  /**
   * Appends `entries` (consecutive indexes), replacing every stored entry from the first new
   * index on. Entries at or below firstIndex - 1 are already covered by a snapshot and are
   * skipped. Throws StorageError "invalid-argument" if the first index would leave a gap.
   */
  append(entries: readonly Entry[]): Promise<void>;
  /** Removes the entries from `from` on (no-op past the end). `from` must be >= firstIndex. */
  truncateSuffix(from: number): Promise<void>;
  /**
   * Discards the entries up to and including `index` (which must be <= lastIndex). Afterwards
   * firstIndex is index + 1 and term(index) still answers. Indexes already compacted: no-op.
   */
  compact(index: number): Promise<void>;
  /**
   * Discards the whole log and starts it again after a snapshot at (index, term) received from
   * the leader: firstIndex becomes index + 1, lastIndex index, term(index) term.
   */
  reset(index: number, term: number): Promise<void>;
  /** Resolves once every write called so far is durable. */
  sync(): Promise<void>;
  /** Waits for pending writes, then releases files. Further calls throw StorageError "closed". */
  close(): Promise<void>;
  /**
   * Writes of at most `maxBytes` go to disk from the calling thread, as one synchronous durable
   * write, instead of through the thread pool (0, the default: never). The same bytes reach the
   * disk in the same order and are just as durable when the write resolves; the calling thread
   * blocks for the write. Backends that never write through the thread pool (memory, LMDB)
   * ignore it. The engine's use, and why: FOLLOWER_INLINE_WRITE_BYTES in node-runtime.ts.
   */
  setInlineWriteBytes(maxBytes: number): void;
}
