// Public API of the deterministic cluster simulator.

export { Chaos, type ChaosTarget } from "./chaos.js";
export { SimClient } from "./client.js";
export { type Checkpoint, type CrashReport, type DiskWrite, LogImage, SimDisk } from "./disk.js";
export { EventQueue } from "./event-queue.js";
export { InvariantChecker, type Observed, type Violation } from "./invariants.js";
export { decodeCommand, encodeCommand, type KvCommand, KvStore } from "./kv.js";
export {
  copyEntry,
  copyMessage,
  copySnapshot,
  Network,
  type NetworkFaults,
  QUIET_NETWORK,
} from "./network.js";
export {
  BOOTSTRAP_INDEX,
  BOOTSTRAP_TERM,
  bootstrapImage,
  type HostConfig,
  joiningImage,
  SimNode,
} from "./node-host.js";
export type { ClientRequest, ClientResponse, Packet } from "./protocol.js";
export { mixSeed, SimRng } from "./rng.js";
export { describePlan, type FaultRates, planFromSeed, type SeedPlan } from "./seed-plan.js";
export { runSeed, type SeedResult, type SimOptions, Simulation } from "./simulation.js";
export { fnv1a, Trace, TraceKind } from "./trace.js";
