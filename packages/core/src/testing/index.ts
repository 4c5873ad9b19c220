// @d-engine/core/testing: deterministic in-memory clusters of the real core, for tests, the
// benchmark and the demo. Not needed by a runtime.

export * from "./bytes.js";
export * from "./memory-cluster.js";
