// @d-engine/storage: durable Raft stores (log, hard state, snapshots) and the KV state machine.

export * from "./kv/index.js";
export * from "./raft-store/index.js";
