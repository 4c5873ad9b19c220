// Durable Raft stores: the log, the hard state and snapshots, with memory, file and LMDB
// backends, and the adapter that presents them to the core as its LogStorage.
export { type CacheOptions, DEFAULT_CACHE_BYTES } from "./caching-log-store.js";
export { crc32c } from "./crc.js";
export { isStorageError, StorageError, type StorageErrorCode } from "./errors.js";
export {
  DEFAULT_SEGMENT_BYTES,
  type FileLogOptions,
  type FileStoresOptions,
  openFileHardState,
  openFileLog,
  openFileStores,
} from "./file/index.js";
export type { HardStateStore } from "./hard-state-store.js";
export { type LmdbStoresOptions, openLmdbStores } from "./lmdb/index.js";
export type { LogReads, LogStore } from "./log-store.js";
export { STDERR_LOGGER } from "./logger.js";
export {
  type MemoryStoresOptions,
  MemoryVolume,
  type MemoryVolumeHooks,
  type MemoryWriteKind,
  openMemoryStores,
} from "./memory/index.js";
export { type PersistRequest, RaftStorage } from "./raft-storage.js";
export type { SnapshotStoreOptions } from "./snapshot/blob-snapshot-store.js";
export { SnapshotChecksumError } from "./snapshot/format.js";
export type {
  LoadedSnapshot,
  SnapshotInfo,
  SnapshotStore,
  SnapshotWriter,
} from "./snapshot-store.js";
export type { RaftStores } from "./stores.js";
