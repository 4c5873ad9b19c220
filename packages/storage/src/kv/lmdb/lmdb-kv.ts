// The LMDB backend: the whole multi-version state on disk. Each applyBatch is one synced LMDB
// transaction holding the batch's writes and the new applied index, so after a crash or restart
// appliedIndex() tells the runtime exactly where to resume applying the log.

import { KvEngine, type KvStateMachineOptions } from "../engine.js";
import { LmdbTables } from "./lmdb-tables.js";

export interface LmdbKvOptions extends KvStateMachineOptions {
  /** The LMDB environment's path (created if missing). */
  readonly path: string;
  /** Flush each applied batch to disk before applyBatch returns (default true). */
  readonly sync?: boolean;
}

export function openLmdbKv(options: LmdbKvOptions): KvEngine {
  return new KvEngine("lmdb", new LmdbTables({ path: options.path, sync: options.sync }), options);
}
