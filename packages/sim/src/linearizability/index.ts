// Public API of the linearizability checker.

export {
  type CheckOptions,
  type CheckResult,
  checkHistory,
  partitionByKey,
} from "./checker.js";
export { describeOperation, formatHistory } from "./format.js";
export type { History, KvInput, KvOutput, Operation } from "./history.js";
export { initialKvState, type KvState, kvStep, outputFits } from "./model.js";
export {
  checkSingleKey,
  DEFAULT_MAX_STEPS_PER_KEY,
  type InitialState,
  type KeyVerdict,
} from "./search.js";
export { DEFAULT_MAX_SHRINK_CHECKS, minimalViolation } from "./shrink.js";
