// The LMDB environment of the Raft stores: one env holding the log entries (keyed by index) and a
// small metadata table (hard state, compaction marker), so that writes to both share LMDB's
// transactions and its crash safety (copy-on-write B-tree, meta-page switch on commit).
import { join } from "node:path";
import { type Database, open, type RootDatabase } from "lmdb";

export interface LmdbEnv {
  readonly path: string;
  readonly root: RootDatabase;
  /** Log entries: index -> protobuf dengine.v1.Entry. */
  readonly entries: Database<Buffer, number>;
  /** Small records: "hard-state", "log-compacted". */
  readonly meta: Database<Buffer, string>;
  /** Resolves once every commit so far is flushed to disk (fsynced). */
  flushed(): Promise<void>;
  close(): Promise<void>;
}

export const HARD_STATE_KEY = "hard-state";
export const COMPACTED_KEY = "log-compacted";

export function openLmdbEnv(dir: string): LmdbEnv {
  const path = join(dir, "raft.lmdb");
  // Writes are synced (no noSync). lmdb-js resolves a write at commit and fsyncs right after
  // ("overlappingSync", the default on Linux): durability is awaited through flushed().
  const root = open({ path, maxDbs: 4 });
  const entries = root.openDB<Buffer, number>({ name: "log-entries", encoding: "binary" });
  const meta = root.openDB<Buffer, string>({ name: "meta", encoding: "binary" });
  return {
    path,
    root,
    entries,
    meta,
    flushed: async () => {
      await root.flushed;
    },
    close: () => root.close(),
  };
}
