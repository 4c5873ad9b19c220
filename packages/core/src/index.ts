// @d-engine/core: a pure Raft state machine. See README.md for the runtime contract.

export { ConfChangeError } from "./confchange/changer.js";
export {
  ConfChangeDecodeError,
  confChange,
  decodeConfChange,
  encodeConfChange,
} from "./confchange/codec.js";
export {
  type Logger,
  type RaftConfig,
  ReadOnlyOption,
  SILENT_LOGGER,
  type UnsafeTestingKnobs,
} from "./config.js";
export { isRaftError, RaftError, type RaftErrorCode } from "./errors.js";
export { type InitialState, type LogStorage, MemoryStorage } from "./log/storage.js";
export { type PersistStep, persistSteps } from "./persist-order.js";
export { quorumSize } from "./quorum/majority.js";
export type { ProposeResult } from "./raft.js";
export { type ProgressStatus, RawNode, type Ready, type Status } from "./raw-node.js";
export { type Rng, seededRng } from "./rng.js";
export { ProgressState } from "./tracker/progress.js";
export * from "./types.js";
