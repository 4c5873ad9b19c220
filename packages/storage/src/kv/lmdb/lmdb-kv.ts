// The LMDB backend: the whole multi-version state on disk. Each applyBatch is one LMDB
// transaction holding the batch's writes and the new applied index, so after a crash or restart
// appliedIndex() tells the runtime exactly where to resume applying the log. With `sync: false`
// the transaction is not flushed before applyBatch returns (background-sync.ts says when that is
// safe and what a restart must check).

import { KvEngine, type KvStateMachineOptions } from "../engine.js";
import { LmdbTables } from "./lmdb-tables.js";

export { lmdbStateMayBeTorn } from "./background-sync.js";

export interface LmdbKvOptions extends KvStateMachineOptions {
  /** The LMDB environment's path (created if missing). */
  readonly path: string;
  /** Flush each applied batch to disk before applyBatch returns (default true). */
  readonly sync?: boolean;
  /** With sync false: the most time an applied batch waits for its flush (default 100 ms). */
  readonly syncIntervalMs?: number;
}

export function openLmdbKv(options: LmdbKvOptions): KvEngine {
  const tables = new LmdbTables({
    path: options.path,
    sync: options.sync,
    ...(options.syncIntervalMs !== undefined ? { syncIntervalMs: options.syncIntervalMs } : {}),
  });
  return new KvEngine("lmdb", tables, options);
}
