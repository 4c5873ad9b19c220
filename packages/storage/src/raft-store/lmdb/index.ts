// The LMDB backend: log and hard state in one LMDB env (<dir>/raft.lmdb), snapshots as files in
// <dir>/snapshots (large blobs streamed in chunks are what files do well).
import { join } from "node:path";
import type { CacheOptions } from "../caching-log-store.js";
import {
  openBlobSnapshotStore,
  type SnapshotStoreOptions,
} from "../snapshot/blob-snapshot-store.js";
import { openFileBlobDir } from "../snapshot/file-blob-dir.js";
import { bundle, type RaftStores } from "../stores.js";
import { openLmdbEnv } from "./lmdb-env.js";
import { openLmdbHardState } from "./lmdb-hard-state.js";
import { openLmdbLog } from "./lmdb-log.js";

export interface LmdbStoresOptions extends CacheOptions, SnapshotStoreOptions {}

export async function openLmdbStores(
  dir: string,
  options: LmdbStoresOptions = {},
): Promise<RaftStores> {
  const env = openLmdbEnv(dir);
  try {
    const log = openLmdbLog(env, options);
    const hardState = openLmdbHardState(env);
    const snapshots = await openBlobSnapshotStore(
      await openFileBlobDir(join(dir, "snapshots")),
      options,
    );
    return bundle(log, hardState, snapshots, [() => env.close()]);
  } catch (e) {
    await env.close();
    throw e;
  }
}
