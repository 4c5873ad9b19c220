// The Raft state machine: a step function over messages, in the spirit of etcd-io/raft.
// It performs no I/O. Inputs are tick(), step(message) and client intents; outputs accumulate in
// `msgs`, `readStates` and the log's unstable tail, which RawNode hands to the runtime as a Ready.

import { type ChangeResult, Changer, ConfChangeError } from "./confchange/changer.js";
import { decodeConfChange, isLeaveJoint, needsJoint } from "./confchange/codec.js";
import { restoreConfig } from "./confchange/restore.js";
import { type RaftConfig, ReadOnlyOption, type ResolvedConfig, resolveConfig } from "./config.js";
import { RaftError } from "./errors.js";
import { RaftLog } from "./log/raft-log.js";
import { jointVoteResult } from "./quorum/joint.js";
import { quorumSize } from "./quorum/majority.js";
import { VoteResult } from "./quorum/quorum.js";
import { ReadOnly, type ReadRequest } from "./read-only.js";
import { Progress, ProgressState } from "./tracker/progress.js";
import {
  describeConfig,
  type ProgressMap,
  ProgressTracker,
  type TrackerConfig,
} from "./tracker/tracker.js";
import {
  CampaignType,
  type ConfChange,
  ConfChangeTransition,
  type ConfState,
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
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
  StateRole,
  voteResponseType,
} from "./types.js";

/** Vote requests of a leadership-transfer campaign carry this context. */
const TRANSFER_CONTEXT = Uint8Array.from(CampaignType.Transfer, (c) => c.charCodeAt(0));

function isTransferContext(ctx: Uint8Array): boolean {
  if (ctx.length !== TRANSFER_CONTEXT.length) return false;
  for (let i = 0; i < ctx.length; i++) if (ctx[i] !== TRANSFER_CONTEXT[i]) return false;
  return true;
}

/** Where a proposal went: appended to this leader's log, or forwarded to the leader. */
export type ProposeResult =
  | { readonly kind: "appended"; readonly index: number; readonly term: number }
  | { readonly kind: "forwarded"; readonly to: NodeId };

/** A proposal before the leader assigns its index and term. */
interface ProposedEntry {
  readonly type: EntryType;
  readonly data: Uint8Array;
}

export class Raft {
  readonly id: NodeId;
  readonly cfg: ResolvedConfig;
  readonly log: RaftLog;
  readonly tracker: ProgressTracker;

  term = 0;
  vote: NodeId = NONE;
  lead: NodeId = NONE;
  role: StateRole = StateRole.Follower;
  /** Whether this node is a learner in the current configuration. */
  isLearner = false;

  /** Messages to send, drained by RawNode.ready(). */
  msgs: Message[] = [];
  /** Answers to ReadIndex requests, drained by RawNode.ready(). */
  readStates: ReadState[] = [];
  /** Contexts of this node's read requests dropped because leadership changed: fail them fast. */
  droppedReads: Uint8Array[] = [];

  /** The follower leadership is being transferred to, or NONE. */
  leadTransferee: NodeId = NONE;
  /** A term in which the commit index was seen to reach an entry of that term (see below). */
  private committedInTerm = -1;
  /** Index of the latest conf change proposed by this leader; at most one is pending. */
  pendingConfIndex = 0;
  /** Payload bytes appended by this leader and not yet applied. */
  uncommittedSize = 0;
  /**
   * A TimeoutNow arrived while committed conf changes were still unapplied (typically the very
   * change that removed the old leader): campaign as soon as they are applied.
   */
  private transferCampaignDue = false;

  private readonly readOnly = new ReadOnly();
  /** Reads that arrived before this leader committed an entry of its own term. */
  private pendingReadIndex: ReadRequest[] = [];
  /** Lease reads: per voter, the send tick of the newest heartbeat it acknowledged. */
  private heartbeatAcks = new Map<NodeId, number>();

  /** Ticks since the last reset (election or heartbeat timer, depending on role). */
  electionElapsed = 0;
  private heartbeatElapsed = 0;
  randomizedElectionTimeout = 0;
  /** Ticks since this node started: its monotonic clock for leases. */
  now = 0;
  /** A broadcast of appends is due (coalesced: one per Ready however many proposals came). */
  private bcastDue = false;
  /**
   * The commit index advanced since followers were last sent it, and deferCommitBroadcast holds
   * the commit-only broadcast until the runtime asks for it (or new entries carry it).
   */
  private commitBcastDue = false;

  constructor(config: RaftConfig) {
    this.cfg = resolveConfig(config);
    this.id = this.cfg.id;
    this.log = new RaftLog(this.cfg.storage, this.cfg.maxCommittedSizePerReady);
    this.tracker = new ProgressTracker(this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes);

    const { hardState, confState } = this.cfg.storage.initialState();
    const restored = restoreConfig(
      confState,
      this.log.lastIndex(),
      this.cfg.maxInflightMsgs,
      this.cfg.maxInflightBytes,
      { config: this.tracker.config, progress: this.tracker.progress },
    );
    this.switchToConfig(restored);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) {
      this.loadHardState(hardState);
    }
    if (this.cfg.applied > 0) this.log.appliedTo(this.cfg.applied);
    this.becomeFollower(this.term, NONE);
    this.logInfo(
      `started: term=${this.term} commit=${this.log.committed} applied=${this.log.applied} ` +
        `last=${this.log.lastIndex()} ${describeConfig(this.tracker.config)}`,
    );
  }

  // ---------------------------------------------------------------- state

  softState(): SoftState {
    return { lead: this.lead, role: this.role };
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  private loadHardState(hs: HardState): void {
    if (hs.commit < this.log.committed || hs.commit > this.log.lastIndex()) {
      throw new RaftError(
        "corrupt-state",
        `persisted commit ${hs.commit} is outside [${this.log.committed}, ${this.log.lastIndex()}]: ` +
          "was the log truncated or lost?",
      );
    }
    this.log.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Whether this node may campaign: a voter with no snapshot waiting to be persisted. */
  promotable(): boolean {
    const pr = this.tracker.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.log.hasPendingSnapshot();
  }

  // ---------------------------------------------------------------- role changes

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.tracker.resetVotes();
    const last = this.log.lastIndex();
    const fresh: ProgressMap = new Map();
    for (const [id, pr] of this.tracker.progress) {
      fresh.set(
        id,
        new Progress({
          next: last + 1,
          // The leader's own entries count toward a quorum only once durable (DESIGN.md §2).
          match: id === this.id ? this.log.lastStableIndex() : 0,
          maxInflight: this.cfg.maxInflightMsgs,
          maxInflightBytes: this.cfg.maxInflightBytes,
          isLearner: pr.isLearner,
        }),
      );
    }
    this.tracker.progress = fresh;
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.transferCampaignDue = false;
    this.heartbeatAcks = new Map();
    this.bcastDue = false;
    this.commitBcastDue = false;
    this.dropPendingReads();
  }

  /** Leadership may have changed: reads waiting here can no longer be answered by this node. */
  private dropPendingReads(): void {
    const dropped = [...this.readOnly.clear(), ...this.pendingReadIndex];
    this.pendingReadIndex = [];
    for (const req of dropped) {
      if (req.from === this.id) this.droppedReads.push(req.context);
    }
  }

  private resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout =
      this.cfg.electionTick + this.cfg.rng.nextInt(this.cfg.electionTick);
  }

  becomeFollower(term: number, lead: NodeId): void {
    const was = this.role;
    this.reset(term);
    this.lead = lead;
    this.role = StateRole.Follower;
    if (was !== StateRole.Follower || lead !== NONE) {
      this.logInfo(
        `became follower at term ${this.term}${lead !== NONE ? ` (leader ${lead})` : ""}`,
      );
    }
  }

  private becomePreCandidate(): void {
    if (this.role === StateRole.Leader)
      throw new Error("invalid transition [leader -> pre-candidate]");
    // A pre-candidate changes neither its term nor its vote: that is the point of pre-vote.
    this.tracker.resetVotes();
    this.lead = NONE;
    this.role = StateRole.PreCandidate;
    this.logInfo(`became pre-candidate at term ${this.term}`);
  }

  private becomeCandidate(): void {
    if (this.role === StateRole.Leader) throw new Error("invalid transition [leader -> candidate]");
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = StateRole.Candidate;
    this.logInfo(`became candidate at term ${this.term}`);
  }

  private becomeLeader(): void {
    if (this.role === StateRole.Follower)
      throw new Error("invalid transition [follower -> leader]");
    this.reset(this.term);
    this.lead = this.id;
    this.role = StateRole.Leader;
    const self = this.tracker.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // There may be an unapplied conf change in the log; delay new ones until it is applied.
    this.pendingConfIndex = this.log.lastIndex();
    // The no-op entry lets this leader commit entries of earlier terms (Raft §5.4.2, Figure 8).
    if (!this.appendEntries([{ type: EntryType.Normal, data: EMPTY_BYTES }])) {
      throw new Error("a new leader could not append its empty entry");
    }
    this.bcastDue = true;
    this.logInfo(`became leader at term ${this.term}`);
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    this.now++;
    if (this.role === StateRole.Leader) this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.step(message({ type: MessageType.Hup, from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.cfg.electionTick) {
      this.electionElapsed = 0;
      if (this.cfg.checkQuorum)
        this.step(message({ type: MessageType.CheckQuorum, from: this.id }));
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === StateRole.Leader && this.leadTransferee !== NONE) {
        this.logInfo(`abandoned leadership transfer to ${this.leadTransferee}: timed out`);
        this.abortLeaderTransfer();
      }
    }
    if (this.role !== StateRole.Leader) return;
    if (this.heartbeatElapsed >= this.cfg.heartbeatTick) {
      this.heartbeatElapsed = 0;
      this.step(message({ type: MessageType.Beat, from: this.id }));
      this.maybeAutoLeave();
    }
  }

  /**
   * Whether this node believes a leader is alive and so ignores vote requests (leader stickiness,
   * Raft thesis §4.2.3). With lease reads, a node that just started also waits one election
   * timeout: before it crashed it may have acknowledged a leader whose lease still runs.
   */
  private inLease(): boolean {
    if (!this.cfg.checkQuorum) return false;
    if (this.lead !== NONE && this.electionElapsed < this.cfg.electionTick) return true;
    return this.leaseReadsEnabled() && this.now < this.cfg.electionTick;
  }

  // ---------------------------------------------------------------- sending

  private send(m: Message): void {
    const isVote =
      m.type === MessageType.Vote ||
      m.type === MessageType.VoteResp ||
      m.type === MessageType.PreVote ||
      m.type === MessageType.PreVoteResp;
    let term = m.term;
    if (isVote) {
      if (term === 0) throw new Error(`term should be set when sending ${MessageType[m.type]}`);
    } else if (m.type !== MessageType.Prop && m.type !== MessageType.ReadIndex) {
      // Forwarded proposals and reads carry no term: they are treated like local messages.
      term = this.term;
    }
    this.msgs.push({ ...m, from: m.from === NONE ? this.id : m.from, term });
  }

  /** Sends an append (or a snapshot) to `to` if its progress allows. Returns whether it sent. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.tracker.progress.get(to);
    if (!pr || pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.maybeTerm(prevIndex);
    if (prevTerm === undefined) return this.maybeSendSnapshot(to, pr);
    let ents: Entry[] = [];
    // With a full window send only empty appends: if every in-flight append was lost, an empty one
    // still gets an answer that unblocks replication.
    if (pr.state !== ProgressState.Replicate || !pr.inflights.full()) {
      try {
        ents = this.log.entries(pr.next, this.cfg.maxSizePerMsg);
      } catch (e) {
        if (e instanceof RaftError && e.code === "compacted") return this.maybeSendSnapshot(to, pr);
        throw e;
      }
    }
    if (ents.length === 0 && !sendIfEmpty) return false;
    this.send(
      message({
        type: MessageType.App,
        to,
        index: prevIndex,
        logTerm: prevTerm,
        entries: ents,
        commit: this.log.committed,
      }),
    );
    pr.sentEntries(ents.length, payloadSize(ents));
    return true;
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    if (!pr.recentActive) return false;
    let snap: Snapshot;
    try {
      snap = this.log.snapshot();
    } catch (e) {
      if (e instanceof RaftError && e.code === "snapshot-temporarily-unavailable") return false;
      throw e;
    }
    if (snap.metadata.index === 0) throw new Error("need a non-empty snapshot to send");
    pr.becomeSnapshot(snap.metadata.index);
    this.logInfo(`sending snapshot at ${snap.metadata.index} to ${to}`);
    this.send(message({ type: MessageType.Snap, to, snapshot: snap }));
    return true;
  }

  private bcastAppend(): void {
    this.tracker.visit((id) => {
      if (id !== this.id) this.sendAppend(id);
    });
  }

  private bcastHeartbeat(ctx: Uint8Array): void {
    this.tracker.visit((id, pr) => {
      if (id === this.id) return;
      this.send(
        message({
          type: MessageType.Heartbeat,
          to: id,
          // Never tell a follower to commit past what it is known to have.
          commit: Math.min(pr.match, this.log.committed),
          context: ctx,
          // The send tick, echoed back, dates the acknowledgement for lease reads.
          index: this.now,
        }),
      );
    });
  }

  private sendTimeoutNow(to: NodeId): void {
    // A deferred commit index goes first: the new leader then starts with everything committed
    // applied, and accepts membership changes (which wait for that) sooner.
    if (this.commitBcastDue) this.sendAppend(to);
    this.send(message({ type: MessageType.TimeoutNow, to }));
  }

  /**
   * A deferred commit-only broadcast is waiting for broadcastCommit() (deferCommitBroadcast).
   * Only a leader sets it, and a leader leaves office through becomeFollower -> reset(), which
   * clears it.
   */
  hasPendingCommitBroadcast(): boolean {
    return this.commitBcastDue;
  }

  /**
   * Makes a deferred commit-only broadcast due with the next Ready. Returns whether one was
   * waiting (false when new entries already carried the commit index, or on a non-leader).
   */
  broadcastCommit(): boolean {
    if (!this.hasPendingCommitBroadcast()) return false;
    this.commitBcastDue = false;
    this.bcastDue = true;
    return true;
  }

  /** Whether coalesced work (an append broadcast, a read heartbeat round) is waiting. */
  hasPendingFlush(): boolean {
    return this.role === StateRole.Leader && (this.bcastDue || this.readOnly.hasUnannounced());
  }

  /**
   * Sends the coalesced work: one append broadcast for everything proposed (or committed) since
   * the last flush, and one heartbeat round for every ReadIndex request that arrived since.
   * Called by RawNode before it builds a Ready.
   */
  flush(): void {
    if (this.role !== StateRole.Leader) return;
    if (this.bcastDue) {
      this.bcastDue = false;
      // Every append carries the commit index: nothing is left for a commit-only round.
      this.commitBcastDue = false;
      this.bcastAppend();
    }
    if (this.readOnly.hasUnannounced()) {
      this.bcastHeartbeat(this.readOnly.announce() as Uint8Array);
    }
  }

  // ---------------------------------------------------------------- appending and committing

  /** Appends proposals as this leader's entries. Returns false if the uncommitted cap refuses. */
  private appendEntries(proposed: readonly ProposedEntry[]): Entry[] | undefined {
    const last = this.log.lastIndex();
    const ents: Entry[] = proposed.map((p, i) => ({
      term: this.term,
      index: last + 1 + i,
      type: p.type,
      data: p.data,
    }));
    const size = payloadSize(ents);
    // An empty tail accepts any size, and empty entries are always accepted (a new leader's
    // no-op, leaving a joint configuration), so the cap cannot wedge the leader.
    if (
      this.uncommittedSize > 0 &&
      size > 0 &&
      this.uncommittedSize + size > this.cfg.maxUncommittedEntriesSize
    ) {
      return undefined;
    }
    this.uncommittedSize += size;
    this.log.append(ents);
    // The leader acknowledges its own entries in onPersisted(), once the runtime made them durable.
    return ents;
  }

  /** The runtime made the log durable up to its stable index: a leader counts its own copy now. */
  onPersisted(): void {
    if (this.role !== StateRole.Leader) return;
    const pr = this.tracker.progress.get(this.id);
    if (pr?.maybeUpdate(this.log.lastStableIndex()) && this.maybeCommit()) this.onCommitAdvanced();
  }

  private maybeCommit(): boolean {
    const mci = this.tracker.committed();
    if (!Number.isFinite(mci)) return false;
    // TEST ONLY (unsafeTestingKnobs): the Figure 8 bug, committing old-term entries by count.
    if (this.cfg.unsafeTestingKnobs.countOldTermReplicasForCommit && mci > this.log.committed) {
      this.log.commitTo(mci);
      return true;
    }
    return this.log.maybeCommit(mci, this.term);
  }

  private onCommitAdvanced(): void {
    // Followers learn the new commit index with the next append broadcast: now, or (deferred)
    // with the next proposal's entries or when the runtime calls broadcastCommit().
    // A leader alone (no follower or learner) has nobody to tell.
    if (this.cfg.deferCommitBroadcast) this.commitBcastDue = this.tracker.progress.size > 1;
    else this.bcastDue = true;
    if (this.pendingReadIndex.length > 0 && this.committedEntryInCurrentTerm()) {
      const waiting = this.pendingReadIndex;
      this.pendingReadIndex = [];
      for (const req of waiting) this.serveReadIndex(req);
    }
  }

  private committedEntryInCurrentTerm(): boolean {
    // Once true it stays true for the rest of the term (the commit index only grows, and the
    // entries after it are this term's or later), so the answer is remembered per term: lease
    // reads ask on every read, and the term lookup walks the log's layers.
    if (this.committedInTerm === this.term) return true;
    if (this.log.maybeTerm(this.log.committed) !== this.term) return false;
    this.committedInTerm = this.term;
    return true;
  }

  appliedTo(index: number, appliedPayloadBytes: number): void {
    const newApplied = Math.max(index, this.log.applied);
    this.log.appliedTo(newApplied);
    this.uncommittedSize = Math.max(0, this.uncommittedSize - appliedPayloadBytes);
    if (
      this.transferCampaignDue &&
      this.role === StateRole.Follower &&
      !this.hasUnappliedConfChanges()
    ) {
      this.logInfo("conf changes applied: campaigning for the leadership transfer");
      this.hup(CampaignType.Transfer);
    }
    this.maybeAutoLeave();
  }

  /**
   * A leader in a joint configuration that is to be left automatically proposes the leave once
   * the change that entered it is applied. Called after each apply and on every heartbeat tick:
   * a refused attempt (a transfer in progress) must be retried even if nothing else is ever
   * applied. Idempotent: once proposed, pendingConfIndex is past the applied index.
   */
  private maybeAutoLeave(): void {
    if (
      !this.tracker.config.autoLeave ||
      this.log.applied < this.pendingConfIndex ||
      this.role !== StateRole.Leader
    ) {
      return;
    }
    // Leave the joint configuration with an empty conf change: it can never be refused for size.
    try {
      this.proposeLocal([{ type: EntryType.ConfChange, data: EMPTY_BYTES }]);
      this.logInfo(`leaving joint configuration ${describeConfig(this.tracker.config)}`);
    } catch (e) {
      // A transfer in progress refuses it; the next apply or heartbeat tick tries again.
      this.logDebug(`not leaving joint configuration yet: ${(e as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- proposals

  /** Proposes entries from this node: appended here if leader, else forwarded to the leader. */
  propose(type: EntryType, data: Uint8Array): ProposeResult {
    if (this.role === StateRole.Leader) {
      const ents = this.proposeLocal([{ type, data }]);
      const e = ents[0] as Entry;
      return { kind: "appended", index: e.index, term: e.term };
    }
    if (this.lead === NONE) {
      throw new RaftError("proposal-dropped", `no leader at term ${this.term}; retry later`);
    }
    if (this.cfg.disableProposalForwarding) {
      throw new RaftError(
        "proposal-dropped",
        `not the leader (node ${this.lead} is) and forwarding is disabled`,
        this.lead,
      );
    }
    this.send(
      message({
        type: MessageType.Prop,
        to: this.lead,
        entries: [{ term: 0, index: 0, type, data }],
      }),
    );
    return { kind: "forwarded", to: this.lead };
  }

  /** A leader appends proposals or throws RaftError "proposal-dropped" / "conf-change-rejected". */
  private proposeLocal(proposed: readonly ProposedEntry[]): Entry[] {
    if (!this.tracker.progress.has(this.id)) {
      throw new RaftError("proposal-dropped", "this node was removed from the configuration");
    }
    if (this.leadTransferee !== NONE) {
      throw new RaftError(
        "proposal-dropped",
        `leadership transfer to ${this.leadTransferee} in progress`,
        this.leadTransferee,
      );
    }
    for (let i = 0; i < proposed.length; i++) {
      const p = proposed[i] as ProposedEntry;
      if (p.type === EntryType.ConfChange) this.checkConfChange(p.data);
    }
    const ents = this.appendEntries(proposed);
    if (!ents) {
      throw new RaftError(
        "proposal-dropped",
        `too many uncommitted bytes (${this.uncommittedSize} pending, limit ${this.cfg.maxUncommittedEntriesSize})`,
        this.id,
      );
    }
    for (const e of ents) if (e.type === EntryType.ConfChange) this.pendingConfIndex = e.index;
    this.bcastDue = true;
    return ents;
  }

  /** Refuses a conf change that cannot be applied now, saying why. */
  private checkConfChange(data: Uint8Array): void {
    const reject = (why: string): never => {
      throw new RaftError("conf-change-rejected", why);
    };
    let cc: ConfChange;
    try {
      cc = decodeConfChange(data);
    } catch (e) {
      throw new RaftError("conf-change-rejected", `malformed conf change: ${(e as Error).message}`);
    }
    const joint = this.tracker.config.voters.outgoing.size > 0;
    if (this.pendingConfIndex > this.log.applied) {
      reject(
        `a conf change at index ${this.pendingConfIndex} is not applied yet (applied ${this.log.applied})`,
      );
    }
    if (joint && !isLeaveJoint(cc)) reject("must leave the joint configuration first");
    if (!joint && isLeaveJoint(cc))
      reject("not in a joint configuration; refusing an empty change");
    // Dry-run the change on the current configuration: it is the one the change will apply to.
    try {
      this.computeConfChange(cc);
    } catch (e) {
      if (e instanceof ConfChangeError) reject(e.message);
      throw e;
    }
  }

  private computeConfChange(cc: ConfChange): ChangeResult {
    const changer = new Changer(
      this.tracker.config,
      this.tracker.progress,
      this.log.lastIndex(),
      this.cfg.maxInflightMsgs,
      this.cfg.maxInflightBytes,
    );
    if (isLeaveJoint(cc)) return changer.leaveJoint();
    if (needsJoint(cc))
      return changer.enterJoint(cc.transition !== ConfChangeTransition.JointExplicit, cc.changes);
    return changer.simple(cc.changes);
  }

  // ---------------------------------------------------------------- membership

  /** Applies a committed conf change; returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    let result: ChangeResult;
    try {
      result = this.computeConfChange(cc);
    } catch (e) {
      if (e instanceof ConfChangeError) {
        throw new RaftError(
          "conf-change-rejected",
          `committed conf change cannot be applied: ${e.message}`,
        );
      }
      throw e;
    }
    return this.switchToConfig(result);
  }

  private switchToConfig(result: { config: TrackerConfig; progress: ProgressMap }): ConfState {
    this.tracker.config = result.config;
    this.tracker.progress = result.progress;
    const cs = this.tracker.confState();
    const self = this.tracker.progress.get(this.id);
    this.isLearner = self?.isLearner ?? false;
    this.logInfo(`switched to configuration ${describeConfig(this.tracker.config)}`);

    if ((!self || this.isLearner) && this.role === StateRole.Leader) {
      if (this.cfg.stepDownOnRemoval) this.stepDownAfterRemoval();
      return cs;
    }
    if (
      (!self || this.isLearner) &&
      (this.role === StateRole.Candidate || this.role === StateRole.PreCandidate)
    ) {
      // Removed (or demoted) mid-campaign: the votes still arriving would be tallied against a
      // configuration we are not in, and could make us a leader that refuses every proposal
      // (found by the simulator, seed 55148). Give the campaign up.
      this.logInfo("removed from the configuration during a campaign; giving it up");
      this.becomeFollower(this.term, NONE);
      return cs;
    }
    if (this.role !== StateRole.Leader || cs.voters.length === 0) return cs;
    if (this.maybeCommit()) {
      this.onCommitAdvanced();
    } else {
      // Probe new members at once rather than at the next heartbeat.
      this.tracker.visit((id) => {
        if (id !== this.id) this.maybeSendAppend(id, false);
      });
    }
    if (this.leadTransferee !== NONE && !this.tracker.isVoter(this.leadTransferee)) {
      this.abortLeaderTransfer();
    }
    return cs;
  }

  /**
   * A leader that was removed hands leadership to the most caught-up voter (so the cluster does
   * not wait an election timeout), then steps down.
   */
  private stepDownAfterRemoval(): void {
    const last = this.log.lastIndex();
    let target: NodeId = NONE;
    for (const id of this.tracker.voterIds()) {
      if (id !== this.id && this.tracker.progress.get(id)?.match === last) {
        target = id;
        break;
      }
    }
    if (target !== NONE) this.sendTimeoutNow(target);
    this.logInfo(
      `removed from the configuration; stepping down${target !== NONE ? `, handing off to ${target}` : ""}`,
    );
    this.becomeFollower(this.term, NONE);
  }

  private hasUnappliedConfChanges(): boolean {
    let lo = this.log.applied + 1;
    const hi = this.log.committed + 1;
    while (lo < hi) {
      const ents = this.log.slice(lo, hi, this.cfg.maxCommittedSizePerReady);
      for (const e of ents) if (e.type === EntryType.ConfChange) return true;
      lo += ents.length;
    }
    return false;
  }

  private abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---------------------------------------------------------------- reads

  /** Handles a ReadIndex request (from this node, or forwarded by a follower). */
  readIndex(req: ReadRequest): void {
    if (this.role === StateRole.Leader) {
      this.leaderReadIndex(req);
      return;
    }
    if (this.lead === NONE) {
      if (req.from === this.id) {
        throw new RaftError("read-dropped", `no leader at term ${this.term}; retry later`);
      }
      return;
    }
    this.send(
      message({ type: MessageType.ReadIndex, to: this.lead, context: req.context, from: req.from }),
    );
  }

  private leaderReadIndex(req: ReadRequest): void {
    // A new leader does not know the commit index until it commits an entry of its own term.
    // (TEST ONLY: unsafeTestingKnobs can skip this check, to prove the simulator catches it.)
    if (
      !this.cfg.unsafeTestingKnobs.serveReadIndexBeforeOwnTermCommit &&
      !this.committedEntryInCurrentTerm()
    ) {
      this.pendingReadIndex.push(req);
      return;
    }
    this.serveReadIndex(req);
  }

  private serveReadIndex(req: ReadRequest): void {
    const committed = this.log.committed;
    if (this.tracker.isSingleton() && this.tracker.config.voters.incoming.has(this.id)) {
      this.respondToRead(req, committed);
      return;
    }
    const lease =
      this.cfg.readOnlyOption === ReadOnlyOption.LeaseBased ||
      (req.lease === true && this.cfg.leaseReads);
    if (lease && this.leaseValid()) {
      this.respondToRead(req, committed);
      return;
    }
    // ReadIndex: confirm leadership with a heartbeat round (sent, coalesced, at the next flush).
    this.readOnly.addRequest(committed, req);
    this.readOnly.recvAck(this.id, req.context);
  }

  private respondToRead(req: ReadRequest, index: number): void {
    if (req.from === NONE || req.from === this.id) {
      this.readStates.push({ index, context: req.context });
    } else {
      this.send(
        message({ type: MessageType.ReadIndexResp, to: req.from, index, context: req.context }),
      );
    }
  }

  /**
   * The read index a lease read gets at once: the commit index when readIndex({ lease: true })
   * from this node would be answered in the same call (serveReadIndex's lease path: this node
   * leads, lease reads are enabled, its lease holds, no leadership transfer is under way, and it
   * has committed an entry of its own term, so the commit index is current), else -1. Never
   * honours unsafeTestingKnobs: -1 only sends the caller to the ordinary path.
   */
  leaseReadIndex(): number {
    if (!this.leaseReadsEnabled() || this.role !== StateRole.Leader) return -1;
    if (!this.committedEntryInCurrentTerm() || !this.leaseValid()) return -1;
    return this.log.committed;
  }

  /** Whether any read may be served from a lease (all of them, or those that ask). */
  private leaseReadsEnabled(): boolean {
    return this.cfg.readOnlyOption === ReadOnlyOption.LeaseBased || this.cfg.leaseReads;
  }

  /**
   * Whether this leader holds a lease: a quorum acknowledged heartbeats sent at tick T or later,
   * and those voters will not vote for another leader before T + electionTick on their clocks.
   */
  leaseValid(): boolean {
    if (this.role !== StateRole.Leader || this.leadTransferee !== NONE) return false;
    // With T the newest send tick a quorum acknowledged (the quorum-th largest acknowledgement,
    // this leader counting as acknowledging now), the lease holds while
    // now < T + electionTick - margin, i.e. while a quorum of each half of the configuration
    // acknowledged a heartbeat sent after `floor`. Counted rather than sorted: lease reads ask
    // this on every read, and jointCommittedIndex allocates and sorts.
    const floor = this.now - this.cfg.electionTick + this.cfg.leaseSafetyMarginTicks;
    const voters = this.tracker.config.voters;
    return (
      this.quorumAckedAfter(voters.incoming, floor) && this.quorumAckedAfter(voters.outgoing, floor)
    );
  }

  /** Whether a majority of `voters` (an empty set: trivially) acknowledged a send tick > floor. */
  private quorumAckedAfter(voters: ReadonlySet<NodeId>, floor: number): boolean {
    if (voters.size === 0) return true;
    let fresh = 0;
    for (const id of voters) {
      const acked =
        id === this.id ? this.now : (this.heartbeatAcks.get(id) ?? Number.NEGATIVE_INFINITY);
      if (acked > floor) fresh++;
    }
    return fresh >= quorumSize(voters.size);
  }

  // ---------------------------------------------------------------- leadership transfer

  transferLeader(transferee: NodeId): void {
    this.step(message({ type: MessageType.TransferLeader, from: transferee }));
  }

  // ---------------------------------------------------------------- step

  step(m: Message): void {
    if (m.term === 0) {
      // A local message (or a forwarded proposal or read, which carry no term).
    } else if (m.term > this.term) {
      if (m.type === MessageType.Vote || m.type === MessageType.PreVote) {
        if (!isTransferContext(m.context) && this.inLease()) {
          this.logDebug(
            `ignored ${MessageType[m.type]} from ${m.from} at term ${m.term}: leader ${this.lead} is alive`,
          );
          return;
        }
      }
      if (m.type === MessageType.PreVote) {
        // A pre-vote never changes our term.
      } else if (m.type === MessageType.PreVoteResp && !m.reject) {
        // Granted pre-votes carry the future term; the term changes only if the pre-vote wins.
      } else if (
        m.type === MessageType.App ||
        m.type === MessageType.Heartbeat ||
        m.type === MessageType.Snap
      ) {
        this.becomeFollower(m.term, m.from);
      } else {
        this.becomeFollower(m.term, NONE);
      }
    } else if (m.term < this.term) {
      this.stepStale(m);
      return;
    }

    switch (m.type) {
      case MessageType.Hup:
        this.hup(this.cfg.preVote ? CampaignType.PreElection : CampaignType.Election);
        return;
      case MessageType.Vote:
      case MessageType.PreVote:
        this.handleVoteRequest(m);
        return;
      default:
        if (this.role === StateRole.Leader) this.stepLeader(m);
        else if (this.role === StateRole.Follower) this.stepFollower(m);
        else this.stepCandidate(m);
    }
  }

  /** A message from an older term. */
  private stepStale(m: Message): void {
    if (
      (this.cfg.checkQuorum || this.cfg.preVote) &&
      (m.type === MessageType.Heartbeat || m.type === MessageType.App)
    ) {
      // A deposed leader that cannot hear the new one (or whose messages we ignore while in
      // lease) learns our term from this and steps down.
      this.send(message({ type: MessageType.AppResp, to: m.from }));
    } else if (m.type === MessageType.PreVote) {
      this.send(this.voteRejection(m));
    } else if (isVoteResponse(m.type) && m.reject) {
      this.learnCommitFromRejection(m);
    }
    // Anything else from an old term is ignored.
  }

  private handleVoteRequest(m: Message): void {
    const canVote =
      this.vote === m.from ||
      (this.vote === NONE && this.lead === NONE) ||
      (m.type === MessageType.PreVote && m.term > this.term);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      this.logDebug(`granted ${MessageType[m.type]} to ${m.from} at term ${m.term}`);
      this.send(message({ type: voteResponseType(m.type), to: m.from, term: m.term }));
      if (m.type === MessageType.Vote) {
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(this.voteRejection(m));
    }
  }

  /**
   * A vote rejection carries our commit index and the term of the entry there (in `index` and
   * `logTerm`). Found by the simulator (seeds 30645, 32779): a voter removed by a conf change
   * knows the change committed and never campaigns again, while the remaining voter neither
   * knows it (so it still needs the removed node's vote) nor can get that vote (the removed node
   * holds a longer log the candidate lost in a crash). With the hint the candidate learns the
   * commit, applies the removal and wins alone.
   */
  private voteRejection(m: Message): Message {
    const committed = this.log.committed;
    return message({
      type: voteResponseType(m.type),
      to: m.from,
      term: this.term,
      reject: true,
      index: committed,
      logTerm: this.log.maybeTerm(committed) ?? 0,
    });
  }

  /**
   * Adopts a commit index from a vote rejection's hint when our log holds the same entry there.
   * Safe at any term: by Log Matching, an equal (index, term) means our log equals the sender's
   * up to that index, and an entry committed anywhere is committed everywhere it exists.
   */
  private learnCommitFromRejection(m: Message): void {
    if (this.role === StateRole.Leader || m.logTerm === 0) return;
    if (m.index <= this.log.committed || !this.log.matchTerm(m.index, m.logTerm)) return;
    this.logInfo(`learned commit ${m.index} from ${MessageType[m.type]} of ${m.from}`);
    this.log.commitTo(m.index);
  }

  private hup(t: CampaignType): void {
    if (this.role === StateRole.Leader) return;
    if (!this.promotable()) {
      this.logDebug("not campaigning: not a voter (or a snapshot is pending)");
      return;
    }
    if (this.hasUnappliedConfChanges()) {
      this.logInfo("not campaigning: committed conf changes are not applied yet");
      if (t === CampaignType.Transfer) this.transferCampaignDue = true;
      return;
    }
    this.transferCampaignDue = false;
    this.campaign(t);
  }

  private campaign(t: CampaignType): void {
    let term: number;
    let voteType: MessageType;
    if (t === CampaignType.PreElection) {
      this.becomePreCandidate();
      voteType = MessageType.PreVote;
      // Pre-votes ask for the next term without moving to it.
      term = this.term + 1;
    } else {
      this.becomeCandidate();
      voteType = MessageType.Vote;
      term = this.term;
    }
    // Our own vote. It is safe to count now: other votes only arrive after our vote requests went
    // out, and those are sent only once the term and vote are durable.
    if (this.poll(this.id, voteResponseType(voteType), true) === VoteResult.Won) {
      if (t === CampaignType.PreElection) this.campaign(CampaignType.Election);
      else this.becomeLeader();
      return;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.tracker.voterIds()) {
      if (id === this.id) continue;
      this.send(
        message({
          type: voteType,
          to: id,
          term,
          index: lastIndex,
          logTerm: lastTerm,
          context: t === CampaignType.Transfer ? TRANSFER_CONTEXT : EMPTY_BYTES,
        }),
      );
    }
  }

  private poll(id: NodeId, type: MessageType, granted: boolean): VoteResult {
    this.tracker.recordVote(id, granted);
    const tally = this.tracker.tallyVotes();
    this.logDebug(
      `${MessageType[type]} from ${id}: ${granted ? "granted" : "rejected"} ` +
        `(${tally.granted} granted, ${tally.rejected} rejected at term ${this.term})`,
    );
    return tally.result;
  }

  private stepLeader(m: Message): void {
    switch (m.type) {
      case MessageType.Beat:
        this.bcastHeartbeat(
          this.readOnly.size > 0 ? (this.readOnly.announce() as Uint8Array) : EMPTY_BYTES,
        );
        return;
      case MessageType.CheckQuorum:
        if (!this.tracker.quorumActive()) {
          this.logInfo("stepping down: did not hear from a quorum within an election timeout");
          this.becomeFollower(this.term, NONE);
        }
        this.tracker.visit((id, pr) => {
          if (id !== this.id) pr.recentActive = false;
        });
        return;
      case MessageType.Prop:
        try {
          this.proposeLocal(m.entries);
        } catch (e) {
          // A forwarded proposal cannot be answered; its sender times out and retries.
          if (!(e instanceof RaftError)) throw e;
          this.logDebug(`dropped a proposal forwarded by ${m.from}: ${e.message}`);
        }
        return;
      case MessageType.ReadIndex:
        this.leaderReadIndex({ from: m.from, context: m.context });
        return;
    }

    const pr = this.tracker.progress.get(m.from);
    if (!pr) return;
    switch (m.type) {
      case MessageType.AppResp:
        this.handleAppendResponse(m, pr);
        return;
      case MessageType.HeartbeatResp:
        this.handleHeartbeatResponse(m, pr);
        return;
      case MessageType.SnapStatus:
        if (pr.state !== ProgressState.Snapshot) return;
        // On failure forget the snapshot, so probing does not start from its index.
        if (m.reject) pr.pendingSnapshot = 0;
        pr.becomeProbe();
        // Wait for the follower's answer (or a heartbeat interval) before the next append.
        pr.msgAppFlowPaused = true;
        return;
      case MessageType.Unreachable:
        // Optimistic appends to an unreachable follower were probably lost.
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        return;
      case MessageType.TransferLeader:
        this.handleTransferLeader(m.from, pr);
        return;
    }
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    if (m.reject) {
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm)[0];
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === ProgressState.Replicate) pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasProbeMatch = pr.match === m.index && pr.state === ProgressState.Probe;
    if (!pr.maybeUpdate(m.index) && !wasProbeMatch) return;
    if (pr.state === ProgressState.Probe) {
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Snapshot && pr.match + 1 >= this.log.firstIndex()) {
      // The follower caught up past the snapshot; resume normal replication.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === ProgressState.Replicate) {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) this.onCommitAdvanced();
    // The window may have opened: keep the pipe to this follower full.
    while (this.maybeSendAppend(m.from, false)) {
      // sent one more append
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.logInfo(`sending TimeoutNow to ${m.from}: it has caught up`);
      this.sendTimeoutNow(m.from);
    }
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    const acked = this.heartbeatAcks.get(m.from);
    if (acked === undefined || m.index > acked) this.heartbeatAcks.set(m.from, m.index);
    // Even with a full window this sends (an empty append), so lost appends cannot stall us.
    if (pr.match < this.log.lastIndex() || pr.state === ProgressState.Probe)
      this.sendAppend(m.from);
    if (m.context.length === 0) return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (!acks) return;
    if (
      jointVoteResult(this.tracker.config.voters, (id) => (acks.has(id) ? true : undefined)) !==
      VoteResult.Won
    ) {
      return;
    }
    for (const rs of this.readOnly.advance(m.context)) this.respondToRead(rs.request, rs.index);
  }

  private handleTransferLeader(transferee: NodeId, pr: Progress): void {
    if (pr.isLearner) {
      this.logInfo(`ignored leadership transfer to learner ${transferee}`);
      return;
    }
    if (this.leadTransferee !== NONE) {
      if (this.leadTransferee === transferee) return; // already under way
      this.abortLeaderTransfer();
    }
    if (transferee === this.id) return; // already the leader
    // The transfer must finish within an election timeout.
    this.electionElapsed = 0;
    this.leadTransferee = transferee;
    this.logInfo(`transferring leadership to ${transferee}`);
    if (pr.match === this.log.lastIndex()) this.sendTimeoutNow(transferee);
    else this.sendAppend(transferee);
  }

  private stepCandidate(m: Message): void {
    const myVoteResp =
      this.role === StateRole.PreCandidate ? MessageType.PreVoteResp : MessageType.VoteResp;
    switch (m.type) {
      case MessageType.App:
        this.becomeFollower(m.term, m.from);
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.becomeFollower(m.term, m.from);
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.becomeFollower(m.term, m.from);
        this.handleSnapshot(m);
        return;
      case myVoteResp: {
        if (m.reject) this.learnCommitFromRejection(m);
        const res = this.poll(m.from, m.type, !m.reject);
        if (res === VoteResult.Won) {
          if (this.role === StateRole.PreCandidate) this.campaign(CampaignType.Election);
          else this.becomeLeader();
        } else if (res === VoteResult.Lost) {
          // A granted pre-vote response may carry a higher term, which we must not adopt.
          this.becomeFollower(this.term, NONE);
        }
        return;
      }
      default:
        // Proposals and reads have no leader to go to; TimeoutNow is for followers.
        return;
    }
  }

  private stepFollower(m: Message): void {
    switch (m.type) {
      case MessageType.Prop:
        if (this.lead === NONE || this.cfg.disableProposalForwarding) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.App:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleAppendEntries(m);
        return;
      case MessageType.Heartbeat:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleHeartbeat(m);
        return;
      case MessageType.Snap:
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleSnapshot(m);
        return;
      case MessageType.TransferLeader:
        if (this.lead === NONE) {
          this.logInfo(`no leader at term ${this.term}; dropping leadership transfer`);
          return;
        }
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.TimeoutNow:
        this.logInfo(`received TimeoutNow from ${m.from}: campaigning to take over leadership`);
        // Leadership transfer skips pre-vote and leader stickiness.
        this.hup(CampaignType.Transfer);
        return;
      case MessageType.ReadIndex:
        if (this.lead === NONE) return;
        this.send({ ...m, to: this.lead });
        return;
      case MessageType.ReadIndexResp:
        this.readStates.push({ index: m.index, context: m.context });
        return;
      default:
        return;
    }
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
      return;
    }
    const lastNew = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (lastNew !== undefined) {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: lastNew }));
      return;
    }
    // Rejected: hint the leader at the last index whose term is <= the term it probed with, so
    // it can skip over a whole divergent term at once.
    const [hintIndex, hintTerm] = this.log.findConflictByTerm(
      Math.min(m.index, this.log.lastIndex()),
      m.logTerm,
    );
    this.send(
      message({
        type: MessageType.AppResp,
        to: m.from,
        index: m.index,
        reject: true,
        rejectHint: hintIndex,
        logTerm: hintTerm,
      }),
    );
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(m.commit);
    this.send(
      message({ type: MessageType.HeartbeatResp, to: m.from, context: m.context, index: m.index }),
    );
  }

  private handleSnapshot(m: Message): void {
    const snap = m.snapshot;
    if (!snap) return;
    if (this.restore(snap)) {
      this.logInfo(`restored snapshot at ${snap.metadata.index} (term ${snap.metadata.term})`);
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.lastIndex() }));
    } else {
      this.send(message({ type: MessageType.AppResp, to: m.from, index: this.log.committed }));
    }
  }

  /** Installs a leader's snapshot. Returns false if it is not needed (or not for us). */
  private restore(s: Snapshot): boolean {
    if (s.metadata.index <= this.log.committed) return false;
    if (this.role !== StateRole.Follower) {
      // Defense in depth: only followers install snapshots.
      this.becomeFollower(this.term + 1, NONE);
      return false;
    }
    const cs = s.metadata.confState;
    const member = [cs.voters, cs.learners, cs.votersOutgoing].some((ids) => ids.includes(this.id));
    if (!member) {
      this.logInfo(
        `ignored snapshot at ${s.metadata.index}: this node is not in its configuration`,
      );
      return false;
    }
    if (this.log.matchTerm(s.metadata.index, s.metadata.term)) {
      // We already have the entries it covers: fast-forward the commit index instead.
      this.log.commitTo(s.metadata.index);
      return false;
    }
    this.log.restore(s);
    this.tracker.config = {
      voters: { incoming: new Set(), outgoing: new Set() },
      learners: new Set(),
      learnersNext: new Set(),
      autoLeave: false,
    };
    this.tracker.progress = new Map();
    this.switchToConfig(
      restoreConfig(cs, this.log.lastIndex(), this.cfg.maxInflightMsgs, this.cfg.maxInflightBytes, {
        config: this.tracker.config,
        progress: this.tracker.progress,
      }),
    );
    return true;
  }

  // ---------------------------------------------------------------- logging

  private logInfo(msg: string): void {
    this.cfg.logger.info(`[${this.id}] ${msg}`);
  }

  private logDebug(msg: string): void {
    this.cfg.logger.debug(`[${this.id}] ${msg}`);
  }
}
