// What a server runs with when nothing else is said: one durable node, id 1, on 127.0.0.1:9081
// with data under ./data. Every default is valid on its own; the README's reference lists them.
// Where the engine has a default of its own, this is the same value (the server passes every
// setting explicitly, so the server's defaults are the ones that apply).
import { DEFAULT_LIMITS } from "@d-engine/client";
import type { ParsedConfig } from "./schema.js";

export const DEFAULT_PORT = 9081;

export const DEFAULTS: ParsedConfig = {
  node: {
    id: 1,
    clusterId: "d-engine",
    listen: `127.0.0.1:${DEFAULT_PORT}`,
    dataDir: "./data",
    stateMachineFsync: false,
  },
  cluster: {
    join: false,
  },
  raft: {
    // 100 ms ticks, a 1-2 s randomized election timeout and 100 ms heartbeats: etcd's defaults.
    tickMs: 100,
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    // packages/engine/src/options.ts: saves a message round per write; followers lag <= 2 ms more.
    commitBroadcastDelayMs: 2,
    // packages/engine/src/runtime/held-applies.ts: followers apply several writes per transaction.
    followerApplyDelayMs: 5,
  },
  reads: {
    defaultConsistency: "linearizable",
    allowOverride: true,
  },
  snapshots: {
    policy: "log-size",
    maxLogEntries: 10_000,
    cooldownMs: 30_000,
    keepEntries: 1_000,
  },
  compaction: {
    enabled: true,
    keepRevisions: 10_000,
    retentionMs: 0,
  },
  learners: {
    autoPromote: true,
    maxLagEntries: 100,
  },
  limits: { ...DEFAULT_LIMITS },
  backpressure: {
    maxPendingWrites: 10_000,
    maxPendingReads: 10_000,
    retryAfterMs: 100,
  },
  requests: {
    timeoutMs: 10_000,
  },
  leases: {
    checkpointIntervalMs: 5_000,
  },
  log: {
    level: "info",
  },
  // metrics.listen is derived from node.listen (see load.ts) unless set.
  metrics: {},
  browsers: {
    allowedOrigins: [],
  },
};

/** The metrics listener's default port is the node's port plus this (9081: 9181). */
export const METRICS_PORT_OFFSET = 100;
