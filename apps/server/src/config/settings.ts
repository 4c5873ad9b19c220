// Every setting a server takes, once: its path in a config file, its environment variable, its
// flag and how a string (from the environment or the command line) becomes its value. The CLI
// options, the environment parsing and the README reference test are all derived from this list.
import { LOG_LEVELS, READ_CONSISTENCIES, SNAPSHOT_POLICIES } from "./schema.js";

export type SettingKind = "int" | "string" | "bool" | "address" | "members" | "enum" | "list";

export interface Setting {
  /** Dotted path in the configuration, e.g. "raft.electionTicks". */
  readonly path: string;
  /** DENGINE_* environment variable. */
  readonly env: string;
  /** The long flag without its argument, e.g. "--election-ticks"; bools also get "--no-...". */
  readonly flag: string;
  readonly kind: SettingKind;
  /** Allowed values of an "enum" setting. */
  readonly choices?: readonly string[];
  readonly description: string;
  /** The flag's argument in help, when the kind's default ("<n>", "<text>") says too little. */
  readonly arg?: string;
}

export const SETTINGS: readonly Setting[] = [
  {
    path: "node.id",
    env: "DENGINE_NODE_ID",
    flag: "--id",
    kind: "int",
    description: "this node's id (a positive integer, unique in the cluster)",
  },
  {
    path: "node.clusterId",
    env: "DENGINE_CLUSTER_ID",
    flag: "--cluster-id",
    kind: "string",
    arg: "<name>",
    description: "the cluster's name; peers from another cluster are refused",
  },
  {
    path: "node.listen",
    env: "DENGINE_LISTEN",
    flag: "--listen",
    kind: "address",
    description: "host:port to listen on, for peers and clients alike",
  },
  {
    path: "node.advertise",
    env: "DENGINE_ADVERTISE",
    flag: "--advertise",
    kind: "address",
    description: "host:port peers and clients use to reach this node (default: the listen address)",
  },
  {
    path: "node.dataDir",
    env: "DENGINE_DATA_DIR",
    flag: "--data-dir",
    kind: "string",
    arg: "<dir>",
    description:
      "where the log, snapshots and state machine live (relative to the working directory)",
  },
  {
    path: "node.stateMachineFsync",
    env: "DENGINE_STATE_MACHINE_FSYNC",
    flag: "--state-machine-fsync",
    kind: "bool",
    description:
      "fsync the state machine on every applied batch instead of in the background (the log is always fsynced)",
  },
  {
    path: "cluster.initial",
    env: "DENGINE_INITIAL_CLUSTER",
    flag: "--initial-cluster",
    kind: "members",
    description: 'the initial voters, "1=host:port,2=host:port,..." (default: this node alone)',
  },
  {
    path: "cluster.join",
    env: "DENGINE_JOIN",
    flag: "--join",
    kind: "bool",
    description: "join an existing cluster (wait to be added as a learner) instead of forming one",
  },
  {
    path: "raft.tickMs",
    env: "DENGINE_RAFT_TICK_MS",
    flag: "--tick-ms",
    kind: "int",
    arg: "<ms>",
    description: "milliseconds per Raft tick",
  },
  {
    path: "raft.electionTicks",
    env: "DENGINE_RAFT_ELECTION_TICKS",
    flag: "--election-ticks",
    kind: "int",
    description: "ticks without a leader before an election (randomized up to twice this)",
  },
  {
    path: "raft.heartbeatTicks",
    env: "DENGINE_RAFT_HEARTBEAT_TICKS",
    flag: "--heartbeat-ticks",
    kind: "int",
    description: "ticks between leader heartbeats (must be less than the election ticks)",
  },
  {
    path: "raft.preVote",
    env: "DENGINE_RAFT_PRE_VOTE",
    flag: "--pre-vote",
    kind: "bool",
    description: "pre-vote before elections, so a partitioned node cannot disrupt the cluster",
  },
  {
    path: "raft.checkQuorum",
    env: "DENGINE_RAFT_CHECK_QUORUM",
    flag: "--check-quorum",
    kind: "bool",
    description: "a leader steps down when it loses touch with a quorum (lease reads need it)",
  },
  {
    path: "raft.commitBroadcastDelayMs",
    env: "DENGINE_RAFT_COMMIT_BROADCAST_DELAY_MS",
    flag: "--commit-broadcast-delay-ms",
    kind: "int",
    arg: "<ms>",
    description:
      "how long a leader waits for the next write to carry a new commit index to the followers before sending it alone (0: at once)",
  },
  {
    path: "raft.followerApplyDelayMs",
    env: "DENGINE_RAFT_FOLLOWER_APPLY_DELAY_MS",
    flag: "--follower-apply-delay-ms",
    kind: "int",
    arg: "<ms>",
    description:
      "how long a follower may hold committed entries to apply several writes together (0: apply at once)",
  },
  {
    path: "reads.defaultConsistency",
    env: "DENGINE_READ_CONSISTENCY",
    flag: "--read-consistency",
    kind: "enum",
    choices: READ_CONSISTENCIES,
    arg: "<mode>",
    description: "how reads are served unless a call says otherwise",
  },
  {
    path: "reads.allowOverride",
    env: "DENGINE_READ_ALLOW_OVERRIDE",
    flag: "--read-override",
    kind: "bool",
    description: "whether a call may choose its own consistency",
  },
  {
    path: "snapshots.policy",
    env: "DENGINE_SNAPSHOT_POLICY",
    flag: "--snapshot-policy",
    kind: "enum",
    choices: SNAPSHOT_POLICIES,
    arg: "<policy>",
    description: "when snapshots are taken: automatically by log size, or only on demand",
  },
  {
    path: "snapshots.maxLogEntries",
    env: "DENGINE_SNAPSHOT_MAX_LOG_ENTRIES",
    flag: "--snapshot-max-log-entries",
    kind: "int",
    description: "log entries since the last snapshot that trigger a new one",
  },
  {
    path: "snapshots.cooldownMs",
    env: "DENGINE_SNAPSHOT_COOLDOWN_MS",
    flag: "--snapshot-cooldown-ms",
    kind: "int",
    arg: "<ms>",
    description: "minimum milliseconds between automatic snapshots",
  },
  {
    path: "snapshots.keepEntries",
    env: "DENGINE_SNAPSHOT_KEEP_ENTRIES",
    flag: "--snapshot-keep-entries",
    kind: "int",
    description: "log entries kept behind a snapshot when the log is purged (for slow followers)",
  },
  {
    path: "compaction.enabled",
    env: "DENGINE_COMPACTION_ENABLED",
    flag: "--compaction",
    kind: "bool",
    description: "compact the key-value history automatically",
  },
  {
    path: "compaction.keepRevisions",
    env: "DENGINE_COMPACTION_KEEP_REVISIONS",
    flag: "--compaction-keep-revisions",
    kind: "int",
    description: "revisions of history to keep (0: do not compact by count)",
  },
  {
    path: "compaction.retentionMs",
    env: "DENGINE_COMPACTION_RETENTION_MS",
    flag: "--compaction-retention-ms",
    kind: "int",
    arg: "<ms>",
    description: "milliseconds of history to keep (0: do not compact by age)",
  },
  {
    path: "learners.autoPromote",
    env: "DENGINE_LEARNER_AUTO_PROMOTE",
    flag: "--learner-auto-promote",
    kind: "bool",
    description: "promote caught-up learners to voters, keeping the number of voters odd",
  },
  {
    path: "learners.maxLagEntries",
    env: "DENGINE_LEARNER_MAX_LAG_ENTRIES",
    flag: "--learner-max-lag-entries",
    kind: "int",
    description: "how far behind the leader's log a learner may be to count as caught up",
  },
  {
    path: "limits.maxKeyBytes",
    env: "DENGINE_LIMIT_MAX_KEY_BYTES",
    flag: "--max-key-bytes",
    kind: "int",
    arg: "<bytes>",
    description: "largest key in bytes",
  },
  {
    path: "limits.maxValueBytes",
    env: "DENGINE_LIMIT_MAX_VALUE_BYTES",
    flag: "--max-value-bytes",
    kind: "int",
    arg: "<bytes>",
    description: "largest value in bytes",
  },
  {
    path: "limits.maxRequestBytes",
    env: "DENGINE_LIMIT_MAX_REQUEST_BYTES",
    flag: "--max-request-bytes",
    kind: "int",
    arg: "<bytes>",
    description: "largest request in bytes (keys and values of one call)",
  },
  {
    path: "limits.maxTxnOps",
    env: "DENGINE_LIMIT_MAX_TXN_OPS",
    flag: "--max-txn-ops",
    kind: "int",
    description: "most compares and operations in one transaction",
  },
  {
    path: "limits.maxGetManyKeys",
    env: "DENGINE_LIMIT_MAX_GET_MANY_KEYS",
    flag: "--max-get-many-keys",
    kind: "int",
    description: "most keys in one getMany",
  },
  {
    path: "backpressure.maxPendingWrites",
    env: "DENGINE_BACKPRESSURE_MAX_PENDING_WRITES",
    flag: "--max-pending-writes",
    kind: "int",
    description: "writes waiting to commit before new ones are refused (resource exhausted)",
  },
  {
    path: "backpressure.maxPendingReads",
    env: "DENGINE_BACKPRESSURE_MAX_PENDING_READS",
    flag: "--max-pending-reads",
    kind: "int",
    description: "reads waiting to be served before new ones are refused (resource exhausted)",
  },
  {
    path: "backpressure.retryAfterMs",
    env: "DENGINE_BACKPRESSURE_RETRY_AFTER_MS",
    flag: "--retry-after-ms",
    kind: "int",
    arg: "<ms>",
    description: "the retry-after hint sent with a resource-exhausted refusal",
  },
  {
    path: "requests.timeoutMs",
    env: "DENGINE_REQUEST_TIMEOUT_MS",
    flag: "--request-timeout-ms",
    kind: "int",
    arg: "<ms>",
    description:
      "how long the node waits for a write or read to be answered when the caller sets no deadline",
  },
  {
    path: "leases.checkpointIntervalMs",
    env: "DENGINE_LEASE_CHECKPOINT_INTERVAL_MS",
    flag: "--lease-checkpoint-interval-ms",
    kind: "int",
    arg: "<ms>",
    description:
      "how often the leader records leases' remaining times in the log (bounds how much a failover can extend a lease)",
  },
  {
    path: "log.level",
    env: "DENGINE_LOG_LEVEL",
    flag: "--log-level",
    kind: "enum",
    choices: LOG_LEVELS,
    arg: "<level>",
    description: "the lowest log level written",
  },
  {
    path: "metrics.listen",
    env: "DENGINE_METRICS_LISTEN",
    flag: "--metrics-listen",
    kind: "address",
    description:
      'host:port of the plain HTTP/1.1 listener for /metrics (Prometheus) and /health, or "off" (default: 127.0.0.1 at the node\'s port + 100)',
  },
  {
    path: "browsers.allowedOrigins",
    env: "DENGINE_ALLOWED_ORIGINS",
    flag: "--allowed-origins",
    kind: "list",
    arg: "<origin,...>",
    description:
      'origins whose web pages may call the client services over HTTP/1.1 (CORS), comma-separated, e.g. https://app.example.com; "*" allows any (default: none)',
  },
];

/** Names the configuration file; not a setting itself (a file cannot name another file). */
export const CONFIG_ENV = "DENGINE_CONFIG";
export const CONFIG_FLAG = "--config";

/** Commander's attribute name for a long flag: "--election-ticks" -> "electionTicks". */
export function flagAttribute(flag: string): string {
  return flag.replace(/^--/, "").replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}
