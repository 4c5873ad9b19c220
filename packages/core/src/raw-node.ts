// The runtime's handle on a Raft node. The runtime feeds it ticks, messages and client intents,
// and repeatedly takes a Ready: what to persist, what to send, what to apply. See README.md for
// the contract the runtime must follow.

import { decodeConfChange, encodeConfChange } from "./confchange/codec.js";
import type { RaftConfig } from "./config.js";
import { RaftError } from "./errors.js";
import { type ProposeResult, Raft } from "./raft.js";
import type { ProgressState } from "./tracker/progress.js";
import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type HardState,
  hardStateEqual,
  isLocalMessage,
  isResponseMessage,
  isVoteResponse,
  type Message,
  MessageType,
  message,
  NONE,
  type NodeId,
  payloadSize,
  type ReadState,
  type Snapshot,
  type SoftState,
} from "./types.js";

export interface Ready {
  /** Present when the leader or this node's role changed since the previous Ready. */
  readonly softState?: SoftState;
  /** Present when term, vote or commit changed: persist it (after `entries`). */
  readonly hardState?: HardState;
  /** Entries to append to the durable log, replacing any stored entries from the first index on. */
  readonly entries: readonly Entry[];
  /** A snapshot from the leader: persist it and restore the state machine from it. */
  readonly snapshot?: Snapshot;
  /** Whether the writes above must be fsynced before `messagesAfterPersist` go out. */
  readonly mustSync: boolean;
  /** Messages that may be sent at once, even before the writes above are durable. */
  readonly messages: readonly Message[];
  /** Messages that may be sent only once the writes above are durable (acks, votes). */
  readonly messagesAfterPersist: readonly Message[];
  /** Committed entries to apply to the state machine, in order. */
  readonly committedEntries: readonly Entry[];
  /** Answers to this node's ReadIndex requests. */
  readonly readStates: readonly ReadState[];
  /** Contexts of this node's ReadIndex requests that were dropped (leadership changed): retry. */
  readonly droppedReads: readonly Uint8Array[];
}

export interface ProgressStatus {
  readonly match: number;
  readonly next: number;
  readonly state: ProgressState;
  readonly isLearner: boolean;
  readonly recentActive: boolean;
  readonly inflight: number;
}

export interface Status {
  readonly id: NodeId;
  readonly hardState: HardState;
  readonly softState: SoftState;
  readonly applied: number;
  readonly lastIndex: number;
  readonly firstIndex: number;
  readonly config: ConfState;
  readonly leadTransferee: NodeId;
  /** Per-member replication progress; only on the leader. */
  readonly progress?: ReadonlyMap<NodeId, ProgressStatus>;
}

/**
 * Messages a leader may send while its own write is in flight (Raft thesis §10.2.1): appends,
 * heartbeats, snapshots, TimeoutNow, forwarded proposals and reads, read answers. Everything else
 * reports durable state (votes, acknowledgements) and must wait for the fsync.
 */
function mayGoBeforePersist(m: Message): boolean {
  switch (m.type) {
    case MessageType.App:
    case MessageType.Heartbeat:
    case MessageType.Snap:
    case MessageType.TimeoutNow:
    case MessageType.Prop:
    case MessageType.ReadIndex:
    case MessageType.ReadIndexResp:
    case MessageType.TransferLeader:
      return true;
    default:
      return false;
  }
}

/** What a Ready handed out, so advance() knows what became durable and applied. */
interface Outstanding {
  readonly lastEntry?: { readonly index: number; readonly term: number };
  readonly snapshotIndex?: number;
  readonly lastCommitted?: number;
  readonly committedPayload: number;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Outstanding | undefined;

  constructor(config: RaftConfig) {
    this.raft = new Raft(config);
    this.prevSoft = this.raft.softState();
    this.prevHard = this.raft.hardState();
  }

  get id(): NodeId {
    return this.raft.id;
  }

  /** Advances the logical clock by one tick (elections, heartbeats, check-quorum, leases). */
  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (with a pre-vote round if enabled). */
  campaign(): void {
    this.raft.step(message({ type: MessageType.Hup, from: this.raft.id }));
  }

  /**
   * Proposes application data. On the leader it is appended and its index returned; on a
   * follower it is forwarded to the leader. Throws RaftError "proposal-dropped" if refused.
   */
  propose(data: Uint8Array): ProposeResult {
    return this.raft.propose(EntryType.Normal, data);
  }

  /** Proposes a membership change; throws "conf-change-rejected" if it cannot be applied now. */
  proposeConfChange(cc: ConfChange): ProposeResult {
    return this.raft.propose(EntryType.ConfChange, encodeConfChange(cc));
  }

  /**
   * Applies a committed membership change (call it for each committed ConfChange entry, in
   * order, before advance()). Returns the new membership to persist with the applied state.
   */
  applyConfChange(cc: ConfChange): ConfState {
    return this.raft.applyConfChange(cc);
  }

  /** Decodes the ConfChange carried by a committed entry of type ConfChange. */
  static decodeConfChange(entry: Entry): ConfChange {
    if (entry.type !== EntryType.ConfChange) {
      throw new RaftError("contract-violation", `entry ${entry.index} is not a conf change`);
    }
    return decodeConfChange(entry.data);
  }

  /** Steps a message received from a peer. */
  step(m: Message): void {
    if (isLocalMessage(m.type)) {
      throw new RaftError(
        "step-local-message",
        `${MessageType[m.type]} cannot arrive from the network`,
      );
    }
    if (isResponseMessage(m.type) && !this.raft.tracker.progress.has(m.from)) {
      throw new RaftError(
        "step-peer-not-found",
        `${MessageType[m.type]} from unknown node ${m.from}`,
      );
    }
    if (m.type === MessageType.Snap && this.outstanding?.lastCommitted !== undefined) {
      // The runtime is applying committed entries that this snapshot would supersede: restored
      // now, it would replace the configuration under the membership changes still being
      // applied, which would then apply on top of it. Drop it; the leader sends it again.
      return;
    }
    this.raft.step(m);
  }

  /**
   * Asks for a linearizable read point. The answer arrives as a ReadState with the same context
   * in a later Ready: serve the read once the state machine has applied up to its index.
   * Contexts must be unique (never reuse one across retries).
   *
   * With `lease: true` (and RaftConfig.leaseReads) a leader whose lease holds answers at once,
   * without a heartbeat round; otherwise, and on followers, this is an ordinary ReadIndex.
   */
  readIndex(context: Uint8Array, opts: { readonly lease?: boolean } = {}): void {
    this.raft.readIndex({
      from: this.raft.id,
      context,
      ...(opts.lease ? { lease: true } : {}),
    });
  }

  /**
   * A lease read without the round through Ready: the read index readIndex(ctx, { lease: true })
   * would answer with right now (the commit index, when this node leads with a valid lease, no
   * transfer under way and an entry of its term committed), or -1 when that call would not
   * answer at once (then ask readIndex and wait as usual). Serve the read once the state machine
   * has applied the returned index. The lease is measured in ticks: it is only as good as the
   * runtime's ticking (a runtime whose ticks are overdue must not rely on it).
   */
  leaseReadIndex(): number {
    return this.raft.leaseReadIndex();
  }

  /** Asks the leader to hand leadership to `transferee`. */
  transferLeader(transferee: NodeId): void {
    this.raft.transferLeader(transferee);
  }

  /** Reports that `id` could not be reached (its appends were probably lost). */
  reportUnreachable(id: NodeId): void {
    this.raft.step(message({ type: MessageType.Unreachable, from: id }));
  }

  /** Reports the outcome of sending a snapshot to `id`. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.step(message({ type: MessageType.SnapStatus, from: id, reject: !ok }));
  }

  /**
   * With deferCommitBroadcast: the commit index advanced and followers have not been sent it.
   * The runtime calls broadcastCommit() after a short delay unless new entries carry it first.
   */
  hasPendingCommitBroadcast(): boolean {
    return this.raft.hasPendingCommitBroadcast();
  }

  /**
   * Sends the deferred commit-only appends with the next Ready (see hasPendingCommitBroadcast).
   * Returns whether there was one to send.
   */
  broadcastCommit(): boolean {
    return this.raft.broadcastCommit();
  }

  /** Whether a Ready is waiting. False while a Ready is handed out and not yet advanced. */
  hasReady(): boolean {
    if (this.outstanding) return false;
    const r = this.raft;
    if (r.hasPendingFlush()) return true;
    const soft = r.softState();
    if (soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role) return true;
    if (!hardStateEqual(r.hardState(), this.prevHard)) return true;
    if (r.log.hasPendingSnapshot()) return true;
    if (
      r.msgs.length > 0 ||
      r.log.unstableEntries().length > 0 ||
      r.log.hasNextCommittedEntries()
    ) {
      return true;
    }
    return r.readStates.length > 0 || r.droppedReads.length > 0;
  }

  /**
   * Takes everything that is ready. The runtime must process it (see README.md) and then call
   * advance() before the next ready().
   */
  ready(): Ready {
    if (this.outstanding) {
      throw new RaftError("contract-violation", "ready() called again before advance()");
    }
    const r = this.raft;
    r.flush();
    const entries = r.log.unstableEntries().slice();
    const snapshot = r.log.unstable.snapshot;
    const committedEntries = r.log.nextCommittedEntries();
    const soft = r.softState();
    const hard = r.hardState();
    const softChanged = soft.lead !== this.prevSoft.lead || soft.role !== this.prevSoft.role;
    const hardChanged = !hardStateEqual(hard, this.prevHard);
    const messages: Message[] = [];
    const messagesAfterPersist: Message[] = [];
    // A message may leave before the write only if its term is already durable (the previous
    // Ready's hard state is persisted). A single voter wins its election within one step, so its
    // new term and its first appends share this Ready: sent early, a crash before the fsync would
    // let it lead that term again with different entries at the same indexes.
    const durableTerm = this.prevHard.term;
    // TEST ONLY (unsafeTestingKnobs): votes sent before the vote is durable.
    const votesEarly = r.cfg.unsafeTestingKnobs.sendVotesBeforePersist === true;
    for (const m of r.msgs) {
      const early =
        (mayGoBeforePersist(m) && m.term <= durableTerm) || (votesEarly && isVoteResponse(m.type));
      (early ? messages : messagesAfterPersist).push(m);
    }

    const mustSync =
      entries.length > 0 ||
      snapshot !== undefined ||
      hard.term !== this.prevHard.term ||
      hard.vote !== this.prevHard.vote;
    const last = entries[entries.length - 1];
    const lastCommitted = committedEntries[committedEntries.length - 1];
    this.outstanding = {
      ...(last ? { lastEntry: { index: last.index, term: last.term } } : {}),
      ...(snapshot ? { snapshotIndex: snapshot.metadata.index } : {}),
      ...(lastCommitted ? { lastCommitted: lastCommitted.index } : {}),
      committedPayload: payloadSize(committedEntries),
    };
    const rd: Ready = {
      ...(softChanged ? { softState: soft } : {}),
      ...(hardChanged ? { hardState: hard } : {}),
      ...(snapshot ? { snapshot } : {}),
      entries,
      mustSync,
      messages,
      messagesAfterPersist,
      committedEntries,
      readStates: r.readStates,
      droppedReads: r.droppedReads,
    };
    r.msgs = [];
    r.readStates = [];
    r.droppedReads = [];
    this.prevSoft = soft;
    this.prevHard = hard;
    return rd;
  }

  /**
   * Tells the node the last Ready was processed: its entries, hard state and snapshot are
   * durable and its committed entries applied.
   */
  advance(): void {
    const o = this.outstanding;
    if (!o)
      throw new RaftError("contract-violation", "advance() called without an outstanding Ready");
    this.outstanding = undefined;
    const r = this.raft;
    if (o.snapshotIndex !== undefined) {
      r.log.stableSnapTo(o.snapshotIndex);
      r.appliedTo(o.snapshotIndex, 0);
    }
    if (o.lastEntry) {
      r.log.stableTo(o.lastEntry.index, o.lastEntry.term);
      r.onPersisted();
    }
    if (o.lastCommitted !== undefined) r.appliedTo(o.lastCommitted, o.committedPayload);
  }

  status(): Status {
    const r = this.raft;
    let progress: Map<NodeId, ProgressStatus> | undefined;
    if (r.role === "leader") {
      progress = new Map();
      r.tracker.visit((id, pr) => {
        progress?.set(id, {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          isLearner: pr.isLearner,
          recentActive: pr.recentActive,
          inflight: pr.inflights.length,
        });
      });
    }
    return {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.log.applied,
      lastIndex: r.log.lastIndex(),
      firstIndex: r.log.firstIndex(),
      config: r.tracker.confState(),
      leadTransferee: r.leadTransferee,
      ...(progress ? { progress } : {}),
    };
  }

  /** The leader this node knows of, or NONE. */
  get leader(): NodeId {
    return this.raft.lead === NONE ? NONE : this.raft.lead;
  }
}
