// Term, vote and commit: what a node must have on disk before it grants a vote or acknowledges
// entries (DESIGN.md principle 2).
import type { HardState } from "@d-engine/core";

export interface HardStateStore {
  /** The last saved hard state (read at open, kept in memory), or EMPTY_HARD_STATE when new. */
  load(): HardState;
  /**
   * Saves `hs` durably (fsynced). Saves take effect in call order; load() returns the newest
   * value at once. If a save fails the store refuses further saves (StorageError "io").
   */
  save(hs: HardState): Promise<void>;
  /**
   * Saves a hard state that differs from the last saved one only in its commit index, without
   * fsync (etcd's MustSync is false for it): it may be lost in a crash, leaving an older commit
   * index, but it never damages what save() made durable. Optional: without it, save() is used.
   */
  saveUnsynced?(hs: HardState): void;
  close(): Promise<void>;
}
