// The KV state machine (etcd's data model) with memory, file and LMDB backends.
export * from "./bytes.js";
export { decodeKvCommand, decodeKvResponse, encodeKvCommand, encodeKvResponse } from "./codec.js";
export { KvEngine, type KvStateMachineOptions } from "./engine.js";
export { isKvError, KvError, type KvFailure } from "./errors.js";
export type { KvEventListener } from "./events.js";
export { type Checkpoint, FileKv, type FileKvOptions, openFileKv } from "./file/file-kv.js";
export { MAX_KEY_BYTES } from "./keyspace.js";
export { MAX_LEASE_TTL } from "./leases.js";
export { type LmdbKvOptions, lmdbStateMayBeTorn, openLmdbKv } from "./lmdb/lmdb-kv.js";
export { openMemoryKv } from "./memory/memory-kv.js";
export * from "./ops.js";
export { SNAPSHOT_MAGIC, type SnapshotSource } from "./snapshot-codec.js";
export type * from "./state-machine.js";
export type * from "./types.js";
