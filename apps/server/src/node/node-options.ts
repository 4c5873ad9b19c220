// The server configuration as the engine's node options (everything but the transport factory
// and the logger, which start-node.ts supplies). Pure, so the mapping is tested on its own.
import type { ServerConfig } from "../config/index.js";

/** The part of @d-engine/engine's NodeOptions that comes from configuration. */
export interface ConfiguredNodeOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly address: string;
  readonly initialMembers?: readonly { readonly id: number; readonly address: string }[];
  readonly join: boolean;
  readonly dataDir: string;
  readonly stateMachineFsync: boolean;
  readonly raft: {
    readonly tickMs: number;
    readonly electionTicks: number;
    readonly heartbeatTicks: number;
    readonly preVote: boolean;
    readonly checkQuorum: boolean;
    readonly commitBroadcastDelayMs: number;
    readonly followerApplyDelayMs: number;
  };
  readonly reads: {
    readonly defaultConsistency: "linearizable" | "lease" | "eventual";
    readonly allowOverride: boolean;
  };
  readonly snapshots:
    | {
        readonly policy: "log-size";
        readonly maxLogEntries: number;
        readonly cooldownMs: number;
        readonly keepEntries: number;
      }
    | { readonly policy: "disabled"; readonly keepEntries: number };
  readonly compaction: { readonly keepRevisions?: number; readonly retentionMs?: number } | false;
  readonly learners: { readonly autoPromote: boolean; readonly maxLagEntries: number };
  readonly limits: ServerConfig["limits"];
  readonly backpressure: ServerConfig["backpressure"];
  readonly requestTimeoutMs: number;
  readonly leases: { readonly checkpointIntervalMs: number };
}

export function toNodeOptions(c: ServerConfig): ConfiguredNodeOptions {
  const s = c.snapshots;
  const k = c.compaction;
  return {
    nodeId: c.node.id,
    clusterId: c.node.clusterId,
    address: c.node.advertise,
    // A joining node forms no cluster: it waits for the leader to add it.
    ...(c.cluster.join ? {} : { initialMembers: c.cluster.initial }),
    join: c.cluster.join,
    dataDir: c.node.dataDir,
    stateMachineFsync: c.node.stateMachineFsync,
    raft: { ...c.raft },
    reads: { ...c.reads },
    snapshots:
      s.policy === "log-size"
        ? {
            policy: "log-size",
            maxLogEntries: s.maxLogEntries,
            cooldownMs: s.cooldownMs,
            keepEntries: s.keepEntries,
          }
        : { policy: "disabled", keepEntries: s.keepEntries },
    // 0 means "not by this measure" in the config; the engine wants the field left out.
    compaction: k.enabled
      ? {
          ...(k.keepRevisions > 0 ? { keepRevisions: k.keepRevisions } : {}),
          ...(k.retentionMs > 0 ? { retentionMs: k.retentionMs } : {}),
        }
      : false,
    learners: { ...c.learners },
    limits: { ...c.limits },
    backpressure: { ...c.backpressure },
    requestTimeoutMs: c.requests.timeoutMs,
    leases: { ...c.leases },
  };
}
