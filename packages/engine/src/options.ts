// The options of a node, their defaults and their validation. Everything is checked once at start
// so that a bad setting fails with a message naming it, never later in the middle of the loop.
import {
  type Consistency,
  DEFAULT_LIMITS,
  type DEngineClient,
  InvalidArgumentError,
  type Limits,
} from "@d-engine/client";
import type { MemoryVolume } from "@d-engine/storage";
import type { PeerHandler, PeerTransport } from "@d-engine/transport";
import { type EngineLogger, SILENT_ENGINE_LOGGER } from "./logger.js";
import type { WatchHubOptions } from "./watch/watch-hub.js";

/** A cluster member's id and the host:port where it serves peers and clients. */
export interface MemberAddress {
  readonly id: number;
  readonly address: string;
}

/**
 * The PeerHandler the engine gives its transport factory. `onUnreachable` is for the transport's
 * "peer cannot be reached" callback (PeerTransport.send never throws; it reports this instead).
 */
export interface EnginePeerHandler extends PeerHandler {
  onUnreachable(id: number): void;
}

export type SnapshotPolicy =
  | {
      readonly policy: "log-size";
      /** Snapshot once this many entries were applied since the newest snapshot... */
      readonly maxLogEntries: number;
      /** ...and at least this long after the previous snapshot. */
      readonly cooldownMs: number;
      /** Entries kept in the log behind a snapshot, for followers that are a little behind. */
      readonly keepEntries: number;
    }
  | {
      /** Only on demand (maintenance.takeSnapshot, or when a follower needs one). */
      readonly policy: "disabled";
      readonly keepEntries?: number;
    };

export interface CompactionOptions {
  /** Keep this many revisions of history. */
  readonly keepRevisions?: number;
  /** Keep the history of this much (leader wall) time. With both, the larger history is kept. */
  readonly retentionMs?: number;
  /** How often the leader checks (default 5 s). */
  readonly intervalMs?: number;
}

export interface NodeOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  /** This node's advertised host:port (peer and client services share one port). */
  readonly address: string;
  /** Voters of a NEW cluster (ignored when the node has state). Must include this node. */
  readonly initialMembers?: readonly MemberAddress[];
  /** Start empty and wait to be added (as a learner) by the leader. */
  readonly join?: boolean;
  /** Durable storage here (file log stores + LMDB state machine). Absent: memory (tests). */
  readonly dataDir?: string;
  /**
   * Flush the state machine to disk on every applied batch (default false). The log is fsynced
   * before anything is applied, so by default the state machine is flushed in the background and
   * a restart applies the log again from where it stands (packages/engine/README.md, "Storage").
   */
  readonly stateMachineFsync?: boolean;
  /**
   * Without dataDir: the volume the memory stores live in (tests hold or fail its writes through
   * its hooks). Absent: a fresh one.
   */
  readonly memoryVolume?: MemoryVolume;
  readonly peerTransport: (handler: EnginePeerHandler) => PeerTransport;
  readonly raft?: {
    readonly tickMs?: number;
    readonly electionTicks?: number;
    readonly heartbeatTicks?: number;
    readonly preVote?: boolean;
    readonly checkQuorum?: boolean;
    /**
     * How long a leader whose commit index advanced waits for a new proposal to carry it to the
     * followers before sending them a commit-only append (default 2 ms; 0: send at once, as
     * etcd does). A single client's next write almost always comes first, which saves two
     * messages out and two answers in per write. Followers' state machines, and so eventual
     * reads and watches served by followers, lag at most this much longer when writes stop.
     */
    readonly commitBroadcastDelayMs?: number;
    /**
     * How long a follower may hold committed entries before applying them, so that several
     * writes' entries go into one state-machine transaction (default 5 ms; 0: apply each Ready's
     * entries at once). A follower applies at once anyway when it holds 128 entries, when a read
     * waits for them, when a membership change or snapshot comes, and when it stops following.
     * Nothing is acknowledged later (the log is durable before the follower answers), but
     * eventual reads and watches served by followers lag at most this much longer.
     */
    readonly followerApplyDelayMs?: number;
    /** Seed of the election-timeout randomness (default: from the clock). */
    readonly seed?: number;
  };
  readonly reads?: {
    readonly defaultConsistency?: Consistency;
    /** Whether a call may ask for another consistency than the default (default true). */
    readonly allowOverride?: boolean;
  };
  readonly snapshots?: SnapshotPolicy;
  /** Automatic history compaction, on by default (keep 10,000 revisions); false: off. */
  readonly compaction?: CompactionOptions | false;
  readonly leases?: {
    /**
     * How often the leader records the leases' remaining times in the log (default 5000 ms).
     * After a failover a lease lives at most this plus the election time longer than its TTL.
     */
    readonly checkpointIntervalMs?: number;
  };
  readonly learners?: {
    /** Promote caught-up learners automatically (default true; never read-only ones). */
    readonly autoPromote?: boolean;
    /** A learner within this many entries of the leader's last index is caught up. */
    readonly maxLagEntries?: number;
  };
  readonly limits?: Partial<Limits>;
  readonly backpressure?: {
    readonly maxPendingWrites?: number;
    readonly maxPendingReads?: number;
    readonly retryAfterMs?: number;
  };
  /** Deadline of a call that gives none (default 10 s). */
  readonly requestTimeoutMs?: number;
  readonly logger?: EngineLogger;
  /** Watch buffers and progress notifications (DEFAULT_WATCH_HUB_OPTIONS). */
  readonly watch?: WatchHubOptions;
}

export interface EmbeddedOptions extends NodeOptions {
  /** A client for the leader, to forward writes a follower cannot serve (absent: NotLeaderError). */
  readonly forwardTo?: (leader: MemberAddress) => DEngineClient | undefined;
}

/** Every option filled in and checked. */
export interface ResolvedOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly address: string;
  readonly initialMembers: readonly MemberAddress[];
  readonly join: boolean;
  readonly dataDir: string | undefined;
  readonly stateMachineFsync: boolean;
  readonly memoryVolume: MemoryVolume | undefined;
  readonly tickMs: number;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly commitBroadcastDelayMs: number;
  readonly followerApplyDelayMs: number;
  readonly seed: number;
  readonly defaultConsistency: Consistency;
  readonly allowOverride: boolean;
  readonly snapshots: Required<SnapshotPolicy>;
  readonly compaction:
    | {
        readonly keepRevisions?: number;
        readonly retentionMs?: number;
        readonly intervalMs: number;
      }
    | false;
  readonly leaseCheckpointIntervalMs: number;
  readonly autoPromote: boolean;
  readonly maxLagEntries: number;
  readonly limits: Limits;
  readonly maxPendingWrites: number;
  readonly maxPendingReads: number;
  readonly retryAfterMs: number;
  readonly requestTimeoutMs: number;
  readonly logger: EngineLogger;
  readonly watch: WatchHubOptions;
}

/** See EngineOptions.raft.commitBroadcastDelayMs. */
export const DEFAULT_COMMIT_BROADCAST_DELAY_MS = 2;

/** See EngineOptions.raft.followerApplyDelayMs. */
export const DEFAULT_FOLLOWER_APPLY_DELAY_MS = 5;

export const DEFAULT_SNAPSHOT_POLICY: SnapshotPolicy = {
  policy: "log-size",
  maxLogEntries: 10_000,
  cooldownMs: 30_000,
  keepEntries: 1_000,
};

const CONSISTENCIES: readonly Consistency[] = ["linearizable", "lease", "eventual"];

export function resolveOptions(o: NodeOptions): ResolvedOptions {
  const bad = (name: string, why: string): never => {
    throw new InvalidArgumentError(`invalid node option ${name}: ${why}`);
  };
  const positiveInt = (name: string, v: number | undefined, dflt: number, min = 1): number => {
    const x = v ?? dflt;
    if (!Number.isSafeInteger(x) || x < min) bad(name, `must be an integer >= ${min}, got ${x}`);
    return x;
  };
  positiveInt("nodeId", o.nodeId, 0);
  if (typeof o.clusterId !== "string" || o.clusterId.length === 0) bad("clusterId", "is empty");
  if (typeof o.address !== "string" || o.address.length === 0) bad("address", "is empty");
  if (typeof o.peerTransport !== "function") bad("peerTransport", "must be a factory function");
  const initialMembers = o.initialMembers ?? [];
  const ids = new Set<number>();
  for (const m of initialMembers) {
    positiveInt("initialMembers[].id", m.id, 0);
    if (ids.has(m.id)) bad("initialMembers", `node ${m.id} is listed twice`);
    ids.add(m.id);
    if (!m.address) bad("initialMembers", `node ${m.id} has no address`);
  }
  const join = o.join ?? false;
  if (!join && initialMembers.length > 0 && !ids.has(o.nodeId)) {
    bad("initialMembers", `this node (${o.nodeId}) is not among them; use join to add it later`);
  }
  const r = o.raft ?? {};
  const electionTicks = positiveInt("raft.electionTicks", r.electionTicks, 10, 2);
  const heartbeatTicks = positiveInt("raft.heartbeatTicks", r.heartbeatTicks, 1);
  if (heartbeatTicks >= electionTicks) {
    bad("raft.heartbeatTicks", `must be below raft.electionTicks (${electionTicks})`);
  }
  const defaultConsistency = o.reads?.defaultConsistency ?? "linearizable";
  if (!CONSISTENCIES.includes(defaultConsistency)) {
    bad("reads.defaultConsistency", `must be one of ${CONSISTENCIES.join(", ")}`);
  }
  const snap = o.snapshots ?? DEFAULT_SNAPSHOT_POLICY;
  let snapshots: Required<SnapshotPolicy>;
  if (snap.policy === "log-size") {
    snapshots = {
      policy: "log-size",
      maxLogEntries: positiveInt("snapshots.maxLogEntries", snap.maxLogEntries, 0),
      cooldownMs: positiveInt("snapshots.cooldownMs", snap.cooldownMs, 0, 0),
      keepEntries: positiveInt("snapshots.keepEntries", snap.keepEntries, 0, 0),
    };
  } else if (snap.policy === "disabled") {
    snapshots = {
      policy: "disabled",
      keepEntries: positiveInt("snapshots.keepEntries", snap.keepEntries, 1_000, 0),
    };
  } else {
    return bad("snapshots.policy", `must be "log-size" or "disabled"`);
  }
  let compaction: ResolvedOptions["compaction"] = false;
  if (o.compaction !== false) {
    const c = o.compaction ?? {};
    const keepRevisions =
      c.keepRevisions === undefined && c.retentionMs === undefined ? 10_000 : c.keepRevisions;
    compaction = {
      ...(keepRevisions !== undefined
        ? { keepRevisions: positiveInt("compaction.keepRevisions", keepRevisions, 0) }
        : {}),
      ...(c.retentionMs !== undefined
        ? { retentionMs: positiveInt("compaction.retentionMs", c.retentionMs, 0) }
        : {}),
      intervalMs: positiveInt("compaction.intervalMs", c.intervalMs, 5_000),
    };
  }
  const limits: Limits = { ...DEFAULT_LIMITS, ...(o.limits ?? {}) };
  for (const [k, v] of Object.entries(limits)) positiveInt(`limits.${k}`, v as number, 0);
  const bp = o.backpressure ?? {};
  return {
    nodeId: o.nodeId,
    clusterId: o.clusterId,
    address: o.address,
    initialMembers,
    join,
    dataDir: o.dataDir,
    stateMachineFsync: o.stateMachineFsync ?? false,
    memoryVolume: o.memoryVolume,
    tickMs: positiveInt("raft.tickMs", r.tickMs, 100),
    electionTicks,
    heartbeatTicks,
    preVote: r.preVote ?? true,
    checkQuorum: r.checkQuorum ?? true,
    commitBroadcastDelayMs: positiveInt(
      "raft.commitBroadcastDelayMs",
      r.commitBroadcastDelayMs,
      DEFAULT_COMMIT_BROADCAST_DELAY_MS,
      0,
    ),
    followerApplyDelayMs: positiveInt(
      "raft.followerApplyDelayMs",
      r.followerApplyDelayMs,
      DEFAULT_FOLLOWER_APPLY_DELAY_MS,
      0,
    ),
    seed: r.seed ?? (Date.now() ^ (o.nodeId * 0x9e3779b1)) >>> 0,
    defaultConsistency,
    allowOverride: o.reads?.allowOverride ?? true,
    snapshots,
    compaction,
    leaseCheckpointIntervalMs: positiveInt(
      "leases.checkpointIntervalMs",
      o.leases?.checkpointIntervalMs,
      5_000,
    ),
    autoPromote: o.learners?.autoPromote ?? true,
    maxLagEntries: positiveInt("learners.maxLagEntries", o.learners?.maxLagEntries, 100, 0),
    limits,
    maxPendingWrites: positiveInt("backpressure.maxPendingWrites", bp.maxPendingWrites, 10_000),
    maxPendingReads: positiveInt("backpressure.maxPendingReads", bp.maxPendingReads, 10_000),
    retryAfterMs: positiveInt("backpressure.retryAfterMs", bp.retryAfterMs, 100, 0),
    requestTimeoutMs: positiveInt("requestTimeoutMs", o.requestTimeoutMs, 10_000),
    logger: o.logger ?? SILENT_ENGINE_LOGGER,
    watch: {
      maxBufferedEvents: positiveInt("watch.maxBufferedEvents", o.watch?.maxBufferedEvents, 10_000),
      progressIntervalMs: positiveInt(
        "watch.progressIntervalMs",
        o.watch?.progressIntervalMs,
        10_000,
      ),
      historyPageRevisions: positiveInt(
        "watch.historyPageRevisions",
        o.watch?.historyPageRevisions,
        256,
      ),
    },
  };
}
