// One node's moving parts, wired together: the core, its loop, the stores and state machine, the
// transport, and the bookkeeping of callers waiting on them. It processes each Ready in the
// contract's order (packages/core/README.md): send the early messages, persist (snapshot, entries,
// hard state; one fsync for the batch), send the acknowledgements, apply committed entries (one
// applyBatch; membership changes to the core and the address book), answer writers and readers;
// the loop then advances the core. A follower may hold committed entries back for a few
// milliseconds and apply several Readies' worth together (held-applies.ts).
import { performance } from "node:perf_hooks";
import { NotLeaderError, UnavailableError } from "@d-engine/client";
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type Message,
  MessageType,
  RawNode,
  type Ready,
  type SoftState,
  StateRole,
  seededRng,
} from "@d-engine/core";
import type { KvEntry } from "@d-engine/storage";
import type { PeerTransport } from "@d-engine/transport";
import { LeaseTracker } from "../leases/lease-tracker.js";
import { coreLogger, type EngineLogger } from "../logger.js";
import { NodeLoop, type ReadyProcessor } from "../loop/node-loop.js";
import { AutoPromoter } from "../membership/auto-promoter.js";
import { LeaderWatch } from "../membership/leader-watch.js";
import { Membership } from "../membership/membership.js";
import { EngineMetrics } from "../metrics/engine-metrics.js";
import { failSpan, tracer } from "../metrics/tracing.js";
import type { EnginePeerHandler, ResolvedOptions } from "../options.js";
import { Housekeeping } from "../proposals/housekeeping.js";
import { Proposer } from "../proposals/proposer.js";
import { ReadQueue } from "../reads/read-queue.js";
import { Reader } from "../reads/reader.js";
import { SnapshotInbox } from "../snapshots/snapshot-inbox.js";
import { SnapshotManager } from "../snapshots/snapshot-manager.js";
import { SnapshotSender } from "../snapshots/snapshot-sender.js";
import { EngineLogStorage } from "../storage/engine-log-storage.js";
import { type NodeStorage, openNodeStorage } from "../storage/open-node-storage.js";
import { WatchHub } from "../watch/watch-hub.js";
import { HeldApplies, mayHold } from "./held-applies.js";

/**
 * A follower writes log appends of up to this many bytes from its main thread, synchronously
 * (LogStore.setInlineWriteBytes): a small O_DSYNC write in place skips the thread pool's
 * hand-off and the wait for the main thread to be scheduled again. Measured on a three-node
 * cluster with one writer, 30 alternating pairs of 500 writes (docs/benchmarks.md, session 10):
 * each follower's CPU per write 0.61 -> 0.53 ms and the p99 4.1-4.3 -> 3.7-3.8 ms; the rate did
 * not change. Larger batches (many clients) keep the thread pool, so the follower goes on
 * receiving while they are written (session 6 measured -4% at high concurrency with every
 * follower write synchronous). A leader never writes in place: a blocked leader stalls every
 * client and peer, and with its writes deferred until its appends had left (node:http2 sends
 * them after the current turn) the rate did not change either.
 */
const FOLLOWER_INLINE_WRITE_BYTES = 4096;

export class NodeRuntime implements ReadyProcessor {
  readonly raw: RawNode;
  readonly loop: NodeLoop;
  readonly logStorage: EngineLogStorage;
  readonly membership: Membership;
  readonly writes: Proposer;
  readonly readQueue: ReadQueue;
  readonly reader: Reader;
  readonly leader: LeaderWatch;
  readonly snapshots: SnapshotManager;
  readonly logger: EngineLogger;
  readonly peerHandler: EnginePeerHandler;
  /** This node's Prometheus metrics (a registry of its own). */
  readonly metrics = new EngineMetrics();
  private readonly sender: SnapshotSender;
  private readonly inbox: SnapshotInbox;
  private readonly housekeeping: Housekeeping;
  /** The leader's monotonic lease clock (expiry and checkpoints). */
  readonly leaseTracker: LeaseTracker;
  private readonly promoter: AutoPromoter;
  /** Watches on this node's state machine (followers' too). */
  readonly watches: WatchHub;
  private transportImpl: PeerTransport | undefined;
  /** The last index applied (state machine and membership); held entries are not counted. */
  applied: number;
  /** Committed entries this follower has not applied yet (held-applies.ts). */
  private readonly held = new HeldApplies();
  private accepting = true;
  private failure: unknown;
  private wasLeader = false;
  private stopping: Promise<void> | undefined;

  private constructor(
    readonly opts: ResolvedOptions,
    readonly ns: NodeStorage,
  ) {
    this.logger = opts.logger;
    this.logStorage = new EngineLogStorage(ns.storage, () => this.snapshots.wanted());
    this.logStorage.minSnapshotIndex = ns.snapshotIndex;
    this.raw = new RawNode({
      id: opts.nodeId,
      electionTick: opts.electionTicks,
      heartbeatTick: opts.heartbeatTicks,
      storage: this.logStorage,
      rng: seededRng(opts.seed),
      // The core replays committed entries from the newest snapshot: membership changes after it
      // must be applied to the core again, even those the state machine already holds.
      applied: ns.snapshotIndex,
      checkQuorum: opts.checkQuorum,
      preVote: opts.preVote,
      deferCommitBroadcast: opts.commitBroadcastDelayMs > 0,
      leaseReads: opts.checkQuorum && (opts.defaultConsistency === "lease" || opts.allowOverride),
      logger: coreLogger(opts.logger),
    });
    this.applied = ns.snapshotIndex;
    this.membership = new Membership(opts.nodeId, ns.book, ns.confState);
    // Configured addresses help until the log (replayed by the first Ready) says otherwise.
    for (const m of opts.initialMembers) this.membership.hint(m.id, m.address);
    this.loop = new NodeLoop(this.raw, opts.tickMs, this, opts.logger, {
      commitBroadcastDelayMs: opts.commitBroadcastDelayMs,
      applyDelayMs: opts.followerApplyDelayMs,
    });
    const checkAccepting = () => this.checkAccepting();
    this.writes = new Proposer({
      raw: this.raw,
      loop: this.loop,
      opts,
      checkAccepting,
      isLeader: () => this.isLeader(),
      notLeader: (hint) => this.notLeader(hint),
    });
    // A node starts as a follower (onSoftState keeps this in step with its role).
    ns.stores.log.setInlineWriteBytes(FOLLOWER_INLINE_WRITE_BYTES);
    this.readQueue = new ReadQueue(this.raw, opts.nodeId);
    this.reader = new Reader(this.readQueue, this.loop, opts, checkAccepting);
    this.leader = new LeaderWatch((e) =>
      this.logger.warn(`a leader-change listener threw: ${(e as Error).message}`),
    );
    this.snapshots = new SnapshotManager({
      stores: ns.stores,
      storage: ns.storage,
      kv: ns.kv,
      membership: this.membership,
      loop: this.loop,
      logger: this.logger,
      policy: opts.snapshots,
      applied: () => this.applied,
    });
    this.sender = new SnapshotSender(
      ns.stores,
      () => this.transport,
      this.raw,
      this.loop,
      this.logger,
    );
    this.inbox = new SnapshotInbox(opts.nodeId, ns.stores, this.raw, this.loop, this.logger);
    this.housekeeping = new Housekeeping({
      kv: ns.kv,
      compaction: opts.compaction,
      logger: this.logger,
      isLeader: () => this.isLeader(),
      propose: (op) => this.writes.propose({ op, timeMs: Date.now() }),
    });
    this.leaseTracker = new LeaseTracker({
      kv: ns.kv,
      logger: this.logger,
      checkpointIntervalMs: opts.leaseCheckpointIntervalMs,
      propose: (op) => this.writes.propose({ op, timeMs: Date.now() }),
    });
    this.promoter = new AutoPromoter(
      this.raw,
      this.membership,
      opts.maxLagEntries,
      (cc) => this.writes.proposeConfChange(cc),
      this.logger,
    );
    this.watches = new WatchHub(ns.kv, opts.watch);
    this.bindMetrics();
    this.peerHandler = {
      onMessages: (from, messages) => this.onMessages(from, messages),
      onPeerAddress: (id, address) => this.membership.hint(id, address),
      receiveSnapshot: (header) => this.inbox.receive(header),
      onUnreachable: (id) => {
        if (this.loop.isStopped) return;
        this.raw.reportUnreachable(id);
        this.loop.schedule();
      },
    };
  }

  static async open(
    opts: ResolvedOptions,
    transport: (h: EnginePeerHandler) => PeerTransport,
  ): Promise<NodeRuntime> {
    const ns = await openNodeStorage(opts);
    let rt: NodeRuntime;
    try {
      rt = new NodeRuntime(opts, ns);
      rt.transportImpl = transport(rt.peerHandler);
    } catch (e) {
      await ns.stores.close().catch(() => undefined);
      await ns.kv.close().catch(() => undefined);
      throw e;
    }
    rt.membership.attach(rt.transport);
    rt.loop.start();
    rt.logger.info(`node ${opts.nodeId} started`, {
      cluster: opts.clusterId,
      address: opts.address,
      bootstrapped: ns.bootstrapped,
      snapshotIndex: ns.snapshotIndex,
      appliedIndex: ns.kv.appliedIndex(),
      lastIndex: ns.stores.log.lastIndex(),
      durable: opts.dataDir !== undefined,
    });
    return rt;
  }

  get transport(): PeerTransport {
    if (!this.transportImpl) throw new Error("the transport is not created yet");
    return this.transportImpl;
  }

  get id(): number {
    return this.opts.nodeId;
  }

  isLeader(): boolean {
    return this.raw.raft.role === StateRole.Leader;
  }

  /** "Not the leader", naming whoever leads now (or `hint`) and where clients reach it. */
  notLeader(hint?: number): NotLeaderError {
    const id = hint && hint !== this.id ? hint : this.raw.leader === this.id ? 0 : this.raw.leader;
    return new NotLeaderError(id, id ? this.membership.clientAddress(id) : "");
  }

  checkAccepting(): void {
    if (this.failure !== undefined) {
      throw new UnavailableError(`the node failed: ${(this.failure as Error)?.message}`);
    }
    if (!this.accepting) throw new UnavailableError("the node is stopping");
  }

  // ---------------------------------------------------------------- peers

  private onMessages(from: number, messages: readonly Message[]): void {
    const mine = messages.filter((m) => m.to === this.id);
    if (mine.length === 0) return;
    try {
      this.loop.step(from, mine);
    } catch (e) {
      this.logger.error(`stepping messages from node ${from} failed: ${(e as Error).message}`);
    }
  }

  /** Snap messages carry only metadata: the sender streams the stored snapshot instead. */
  private sendAll(messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const batch: Message[] = [];
    for (const m of messages) {
      if (m.type === MessageType.Snap) this.sender.send(m);
      else batch.push(m);
    }
    if (batch.length > 0) this.transport.send(batch);
  }

  // ---------------------------------------------------------------- the Ready

  async process(rd: Ready): Promise<void> {
    if (rd.committedEntries.length > 0) this.metrics.commitSeen(performance.now());
    if (rd.softState) this.onSoftState(rd.softState);
    this.sendAll(rd.messages);
    if (rd.snapshot) {
      this.applyHeldEntries();
      this.applied = await this.snapshots.install(rd.snapshot);
      this.leaseTracker.onRestore();
      this.logStorage.minSnapshotIndex = Math.max(this.logStorage.minSnapshotIndex, this.applied);
    }
    if (rd.entries.length > 0 || rd.hardState) {
      const persistStart = performance.now();
      await this.ns.storage.persist({
        entries: rd.entries,
        ...(rd.hardState ? { hardState: rd.hardState } : {}),
      });
      this.metrics.persisted(persistStart, performance.now());
    }
    this.sendAll(rd.messagesAfterPersist);
    this.applyCommitted(rd.committedEntries);
    this.readQueue.onReadStates(rd.readStates);
    this.readQueue.onDropped(rd.droppedReads);
    // A read waiting for the state machine does not wait for the held entries' timer.
    if (this.readQueue.waitsForApply()) this.applyHeldEntries();
    this.readQueue.serve(this.ns.kv.appliedIndex());
  }

  /** Applies a Ready's committed entries, or holds them back (held-applies.ts). */
  private applyCommitted(committed: readonly Entry[]): void {
    const role = this.raw.raft.role;
    const delayMs = this.opts.followerApplyDelayMs;
    if (mayHold(delayMs, role, this.writes.waiters.size, committed)) {
      if (committed.length > 0 && this.held.hold(committed)) this.applyHeldEntries();
      return;
    }
    this.applyHeldEntries();
    if (committed.length > 0) this.apply(committed);
  }

  holdsApplies(): boolean {
    return this.held.size > 0;
  }

  /** The loop's call when the held entries' delay is up: apply them, serve what waited. */
  applyHeld(): void {
    if (this.held.size === 0) return;
    this.applyHeldEntries();
    this.readQueue.serve(this.ns.kv.appliedIndex());
  }

  /** Applies every entry held back, in order (process() serves the reads itself). */
  private applyHeldEntries(): void {
    if (this.held.size > 0) this.apply(this.held.take());
  }

  /**
   * Applies committed entries: KV commands in one applyBatch (membership changes and no-ops as
   * empty entries, which only advance the state machine's index), then membership changes to the
   * core, then each waiting writer learns its answer. Entries the state machine already holds
   * (replay after a restart) skip the state machine but still apply membership changes.
   */
  private apply(entries: readonly Entry[]): void {
    const started = performance.now();
    const span = tracer.startSpan("dengine.apply");
    try {
      if (span.isRecording()) {
        span.setAttribute("dengine.entries", entries.length);
        span.setAttribute("dengine.first_index", entries[0]?.index ?? 0);
      }
      this.applyEntries(entries, started);
    } catch (e) {
      failSpan(span, e);
      throw e;
    } finally {
      span.end();
    }
  }

  private applyEntries(entries: readonly Entry[], started: number): void {
    const kv = this.ns.kv;
    const kvApplied = kv.appliedIndex();
    const batch: KvEntry[] = [];
    for (const e of entries) {
      if (e.index <= kvApplied) continue;
      batch.push({ index: e.index, command: e.type === EntryType.Normal ? e.data : EMPTY_BYTES });
    }
    const results = batch.length > 0 ? kv.applyBatch(batch) : [];
    this.metrics.applied(entries.length, started, performance.now());
    if (results.length > 0) this.leaseTracker.onApplied(results, performance.now());
    let next = 0;
    const leader = () => {
      const l = this.notLeader();
      return { id: l.leaderId, address: l.leaderAddress };
    };
    for (const e of entries) {
      const result = e.index > kvApplied ? results[next++] : undefined;
      if (e.type === EntryType.ConfChange) {
        const cs = this.membership.applyEntry(this.raw, e);
        this.logStorage.minSnapshotIndex = e.index;
        this.logger.info(`membership changed at index ${e.index}`, {
          voters: cs.voters,
          learners: cs.learners,
          ...(cs.votersOutgoing.length > 0 ? { votersOutgoing: cs.votersOutgoing } : {}),
        });
      }
      this.applied = e.index;
      const answer = e.type === EntryType.Normal ? result : undefined;
      this.writes.waiters.settle(e.index, e.term, answer, leader);
    }
  }

  private onSoftState(ss: SoftState): void {
    const isLeader = ss.role === StateRole.Leader;
    if (this.wasLeader && !isLeader) {
      this.writes.waiters.failAll(
        "this node lost the leadership before the write applied; its outcome is unknown",
      );
    }
    this.wasLeader = isLeader;
    this.ns.stores.log.setInlineWriteBytes(isLeader ? 0 : FOLLOWER_INLINE_WRITE_BYTES);
    this.leaseTracker.onLeadership(isLeader, this.raw.raft.log.lastIndex());
    if (ss.lead !== this.leader.leader) {
      this.metrics.leaderChanged();
      const term = this.raw.raft.term;
      this.logger.info(
        ss.lead === 0
          ? `no leader known (term ${term})`
          : `leader is node ${ss.lead} (term ${term})${ss.lead === this.id ? ": this node" : ""}`,
      );
    }
    this.leader.update(ss.lead, this.raw.raft.term);
    this.readQueue.onLeaderChange(ss.lead);
  }

  /** The metrics' sampled gauges read the node's state at scrape time (nothing per operation). */
  private bindMetrics(): void {
    const raft = this.raw.raft;
    this.metrics.bind({
      term: () => raft.term,
      leader: () => this.raw.leader,
      isLeader: () => this.isLeader(),
      commitIndex: () => raft.log.committed,
      appliedIndex: () => this.applied,
      pendingWrites: () => this.writes.waiters.size,
      pendingReads: () => this.readQueue.size,
      replicationLag: () => {
        const lags: [number, number][] = [];
        if (!this.isLeader()) return lags;
        const last = raft.log.lastIndex();
        raft.tracker.visit((id, pr) => {
          if (id !== this.id) lags.push([id, Math.max(0, last - pr.match)]);
        });
        return lags;
      },
    });
    this.metrics.setLeaseCount(() => this.ns.kv.leases().length);
    this.metrics.setWatcherCount(() => this.watches.size);
    this.writes.waiters.onApplied = (proposedAt) => this.metrics.proposalApplied(proposedAt);
  }

  afterTick(): void {
    const now = Date.now();
    this.writes.waiters.sweep(now);
    this.readQueue.sweep(now);
    if (!this.accepting) return;
    this.housekeeping.onTick(now);
    this.leaseTracker.onTick(performance.now());
    if (this.opts.autoPromote) this.promoter.onTick(this.isLeader());
  }

  afterDrain(): void {
    this.snapshots.maybeAuto();
  }

  fatal(e: unknown): void {
    this.failure = e;
    this.accepting = false;
    const why = `the node failed: ${(e as Error)?.message}`;
    this.logger.error(`node ${this.id} stopped on a fatal error: ${(e as Error)?.stack ?? e}`);
    this.writes.waiters.failAll(why);
    this.readQueue.failAll(why);
    this.leader.failAll(why);
    this.watches.close(why);
  }

  // ---------------------------------------------------------------- leadership

  /** The voter (other than this node) with the highest match index; 0 if none. */
  transferTarget(): number {
    let best = 0;
    let bestMatch = -1;
    for (const [id, pr] of this.raw.status().progress ?? []) {
      if (id === this.id || pr.isLearner || !this.membership.isVoter(id)) continue;
      if (pr.match > bestMatch) {
        best = id;
        bestMatch = pr.match;
      }
    }
    return best;
  }

  // ---------------------------------------------------------------- stop

  stop(opts: { transferLeadership?: boolean; timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.doStop(opts.transferLeadership ?? true, opts.timeoutMs ?? 5_000);
    return this.stopping;
  }

  private async doStop(transfer: boolean, timeoutMs: number): Promise<void> {
    this.accepting = false;
    // Writes in flight may still commit while leadership moves; what is left fails below.
    if (transfer && this.isLeader() && this.failure === undefined) {
      const target = this.transferTarget();
      if (target) {
        this.logger.info(`stopping: handing leadership to node ${target}`);
        this.raw.transferLeader(target);
        this.loop.schedule();
        await this.leader
          .waitFor((l) => l !== 0 && l !== this.id, timeoutMs, "leadership transfer on stop")
          .catch((e: unknown) => this.logger.warn((e as Error).message));
      }
    }
    await this.loop.stop();
    // Held entries are in the log and a restart would apply them; applying them now leaves the
    // state machine where this node's acknowledgements put it. Not after a fatal error.
    if (this.failure === undefined) {
      try {
        this.applyHeldEntries();
      } catch (e) {
        this.logger.warn(`applying held entries on stop failed: ${(e as Error).message}`);
      }
    }
    this.writes.waiters.failAll("the node is stopping; the write's outcome is unknown");
    this.readQueue.failAll("the node is stopping");
    this.leader.failAll("the node is stopping");
    this.watches.close("the node stopped");
    await this.inbox.close();
    await this.transportImpl?.close().catch((e: unknown) => {
      this.logger.warn(`closing the transport failed: ${(e as Error).message}`);
    });
    let first: unknown;
    for (const close of [() => this.ns.stores.close(), () => this.ns.kv.close()]) {
      try {
        await close();
      } catch (e) {
        first ??= e;
      }
    }
    this.logger.info(`node ${this.id} stopped`);
    if (first !== undefined) throw first;
  }
}
