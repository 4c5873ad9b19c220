// How a Raft node is configured. Everything time-like is in ticks: the runtime decides how long
// a tick is (for example 100 ms) and calls tick() that often.
import { RaftError } from "./errors.js";
import type { LogStorage } from "./log/storage.js";
import type { Rng } from "./rng.js";
import type { NodeId } from "./types.js";

export enum ReadOnlyOption {
  /**
   * ReadIndex: the leader confirms with a heartbeat round to a quorum that it still leads before
   * answering. Always linearizable.
   */
  Safe = "safe",
  /**
   * Lease reads: the leader answers without a round trip while a quorum acknowledged one of its
   * heartbeats within the last election timeout (minus a safety margin for clock drift). Needs
   * check-quorum. Falls back to ReadIndex when the lease is not held.
   */
  LeaseBased = "lease-based",
}

export interface Logger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

export const SILENT_LOGGER: Logger = { debug() {}, info() {}, warn() {} };

export interface RaftConfig {
  /** This node's id (> 0). */
  readonly id: NodeId;
  /** Ticks a follower waits without hearing from a leader before campaigning (randomized up to 2x). */
  readonly electionTick: number;
  /** Ticks between a leader's heartbeats. Must be less than electionTick. */
  readonly heartbeatTick: number;
  readonly storage: LogStorage;
  /** Seeded randomness for election timeouts. */
  readonly rng: Rng;
  /** The last index the runtime's state machine has applied (on restart). */
  readonly applied?: number;
  /** Byte budget of one append message (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsg?: number;
  /** Byte budget of the committed entries in one Ready. Default 16 MiB. */
  readonly maxCommittedSizePerReady?: number;
  /** Unacknowledged append messages per follower. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Unacknowledged bytes per follower; 0 means no byte limit. Default 32 MiB. */
  readonly maxInflightBytes?: number;
  /** Payload bytes of uncommitted entries a leader accepts before refusing proposals. Default 64 MiB. */
  readonly maxUncommittedEntriesSize?: number;
  /** A leader that has not heard from a quorum for an election timeout steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** Campaign with a pre-vote round first, so a partitioned node cannot disrupt. Default true. */
  readonly preVote?: boolean;
  readonly readOnlyOption?: ReadOnlyOption;
  /**
   * Lets a runtime ask for a lease read per request (`readIndex(ctx, { lease: true })`) while
   * other requests keep ReadIndex. Requires checkQuorum. As with ReadOnlyOption.LeaseBased, a
   * node that just started then refuses votes for an election timeout (it may have acknowledged
   * a leader whose lease still runs). Default false: a lease request is served by ReadIndex.
   */
  readonly leaseReads?: boolean;
  /**
   * Ticks subtracted from the lease to absorb clock drift between nodes. Default
   * max(1, electionTick / 5). Only used with ReadOnlyOption.LeaseBased.
   */
  readonly leaseSafetyMarginTicks?: number;
  /** Followers refuse proposals instead of forwarding them to the leader. Default false. */
  readonly disableProposalForwarding?: boolean;
  /** A leader removed from the configuration steps down (handing off first). Default true. */
  readonly stepDownOnRemoval?: boolean;
  /**
   * When the commit index advances and nothing else is due to followers, the leader waits for
   * the runtime to ask (RawNode.broadcastCommit()) before sending the commit-only appends. New
   * entries carry the commit index anyway, so under steady writes the commit-only round (two
   * messages out and two answers in per follower pair, per write) disappears; the runtime bounds
   * how long followers can lag by calling broadcastCommit() after a short delay. It changes only
   * when followers learn the commit index, never what is committed. Default false (etcd's
   * behaviour: broadcast at once).
   */
  readonly deferCommitBroadcast?: boolean;
  readonly logger?: Logger;
  /**
   * TEST ONLY. Deliberate safety bugs, so the deterministic simulator (packages/sim) can prove it
   * catches them. Never set these outside tests; every knob defaults to false.
   */
  readonly unsafeTestingKnobs?: UnsafeTestingKnobs;
}

/** TEST ONLY: switches that break Raft on purpose (see RaftConfig.unsafeTestingKnobs). */
export interface UnsafeTestingKnobs {
  /** Commit entries of earlier terms by counting replicas (breaks Raft §5.4.2, Figure 8). */
  readonly countOldTermReplicasForCommit?: boolean;
  /** Send VoteResp/PreVoteResp before the hard state (term, vote) is durable. */
  readonly sendVotesBeforePersist?: boolean;
  /** Answer ReadIndex before the leader committed an entry of its own term. */
  readonly serveReadIndexBeforeOwnTermCommit?: boolean;
}

/** A configuration with every default filled in, validated. */
export type ResolvedConfig = Required<RaftConfig>;

export function resolveConfig(c: RaftConfig): ResolvedConfig {
  const fail = (msg: string): never => {
    throw new RaftError("invalid-config", msg);
  };
  if (!Number.isSafeInteger(c.id) || c.id <= 0) fail(`id must be a positive integer, got ${c.id}`);
  if (!Number.isInteger(c.heartbeatTick) || c.heartbeatTick <= 0) {
    fail(`heartbeatTick must be a positive integer, got ${c.heartbeatTick}`);
  }
  if (!Number.isInteger(c.electionTick) || c.electionTick <= c.heartbeatTick) {
    fail(
      `electionTick (${c.electionTick}) must be greater than heartbeatTick (${c.heartbeatTick})`,
    );
  }
  const r: ResolvedConfig = {
    applied: 0,
    maxSizePerMsg: 1 << 20,
    maxCommittedSizePerReady: 16 << 20,
    maxInflightMsgs: 256,
    maxInflightBytes: 32 << 20,
    maxUncommittedEntriesSize: 64 << 20,
    checkQuorum: true,
    preVote: true,
    readOnlyOption: ReadOnlyOption.Safe,
    leaseReads: false,
    leaseSafetyMarginTicks: Math.max(1, Math.floor(c.electionTick / 5)),
    disableProposalForwarding: false,
    stepDownOnRemoval: true,
    deferCommitBroadcast: false,
    logger: SILENT_LOGGER,
    unsafeTestingKnobs: {},
    ...stripUndefined(c),
  } as ResolvedConfig;
  if (r.maxInflightMsgs <= 0) fail(`maxInflightMsgs must be > 0, got ${r.maxInflightMsgs}`);
  if (r.maxInflightBytes < 0) fail(`maxInflightBytes must be >= 0, got ${r.maxInflightBytes}`);
  if (r.maxSizePerMsg <= 0) fail(`maxSizePerMsg must be > 0, got ${r.maxSizePerMsg}`);
  if (r.maxUncommittedEntriesSize <= 0) {
    fail(`maxUncommittedEntriesSize must be > 0, got ${r.maxUncommittedEntriesSize}`);
  }
  if (r.readOnlyOption === ReadOnlyOption.LeaseBased && !r.checkQuorum) {
    fail(
      "readOnlyOption lease-based requires checkQuorum (a lease is only safe if leaders step down)",
    );
  }
  if (r.leaseReads && !r.checkQuorum) {
    fail("leaseReads requires checkQuorum (a lease is only safe if leaders step down)");
  }
  if (r.leaseSafetyMarginTicks < 0 || r.leaseSafetyMarginTicks >= r.electionTick) {
    fail(`leaseSafetyMarginTicks must be in [0, electionTick), got ${r.leaseSafetyMarginTicks}`);
  }
  if (r.applied < 0) fail(`applied must be >= 0, got ${r.applied}`);
  return r;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}
