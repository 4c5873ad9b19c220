// The memory backend: everything in a MemoryVolume (for tests and the simulator).
import type { CacheOptions } from "../caching-log-store.js";
import {
  openBlobSnapshotStore,
  type SnapshotStoreOptions,
} from "../snapshot/blob-snapshot-store.js";
import { bundle, type RaftStores } from "../stores.js";
import { MemoryBlobDir } from "./memory-blob-dir.js";
import { openMemoryHardState } from "./memory-hard-state.js";
import { openMemoryLog } from "./memory-log.js";
import { MemoryVolume } from "./volume.js";

export { openMemoryHardState } from "./memory-hard-state.js";
export { openMemoryLog } from "./memory-log.js";
export { MemoryVolume, type MemoryVolumeHooks, type MemoryWriteKind } from "./volume.js";

export interface MemoryStoresOptions extends CacheOptions, SnapshotStoreOptions {}

/** Opens the stores kept in `volume`; opening again on the same volume is a restart. */
export async function openMemoryStores(
  volume: MemoryVolume = new MemoryVolume(),
  options: MemoryStoresOptions = {},
): Promise<RaftStores> {
  const log = openMemoryLog(volume, options);
  const hardState = openMemoryHardState(volume);
  const snapshots = await openBlobSnapshotStore(new MemoryBlobDir(volume), options);
  return bundle(log, hardState, snapshots, []);
}
