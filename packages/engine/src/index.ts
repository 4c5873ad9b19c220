// @d-engine/engine: the node runtime. RaftNode drives the core with storage, a transport and the
// KV state machine; EmbeddedEngine runs one inside an application with an in-process client.
export type { NodeApi, SessionOption, WriteSession } from "./api/types.js";
export { EmbeddedClient, type ForwardTo } from "./embedded/embedded-client.js";
export { EmbeddedEngine } from "./embedded/embedded-engine.js";
export {
  type NetworkedEngine,
  type NetworkedEngineOptions,
  startNetworkedEngine,
} from "./embedded/networked-engine.js";
export { consoleLogger, type EngineLogger, SILENT_ENGINE_LOGGER } from "./logger.js";
export type { MemberRecord } from "./membership/address-book.js";
export { choosePromotions, type PromotionInput } from "./membership/promoter.js";
export { EngineMetrics, METRIC_NAMES, type MetricsSources } from "./metrics/index.js";
export {
  type CompactionOptions,
  DEFAULT_SNAPSHOT_POLICY,
  type EmbeddedOptions,
  type EnginePeerHandler,
  type MemberAddress,
  type NodeOptions,
  type SnapshotPolicy,
} from "./options.js";
export { RaftNode } from "./raft-node.js";
export { bootstrapEntries, StartupError } from "./storage/open-node-storage.js";
