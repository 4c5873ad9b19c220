// A runtime for one simulated node. It follows the core's Ready contract (packages/core/README.md)
// step by step over the simulated disk: send `messages`, write snapshot / entries / hard state,
// fsync (it takes simulated time, during which the node keeps taking ticks and messages), send
// `messagesAfterPersist`, apply committed entries, serve reads, advance. A crash can land at any
// point of that sequence. Ticks come from the node's own drifting clock; a paused node (a GC
// pause, a stopped VM) misses ticks and catches up on resume, as a runtime that derives ticks from
// a monotonic clock would.
import {
  type ConfState,
  type Entry,
  EntryType,
  isRaftError,
  type Message,
  MessageType,
  persistSteps,
  type RaftErrorCode,
  RawNode,
  ReadOnlyOption,
  type ReadState,
  type UnsafeTestingKnobs,
} from "@d-engine/core";
import { ascii, fromAscii } from "@d-engine/core/testing";
import type { KvOutput } from "../linearizability/history.js";
import { type CrashReport, LogImage, SimDisk } from "./disk.js";
import type { EventQueue } from "./event-queue.js";
import type { InvariantChecker, Observed } from "./invariants.js";
import { decodeCommand, encodeCommand, KvStore } from "./kv.js";
import { type ClientRequest, type ClientResponse, clientAddress, type Packet } from "./protocol.js";
import type { SimRng } from "./rng.js";
import { type Trace, TraceKind } from "./trace.js";

export interface HostEnv {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly checker: InvariantChecker;
  /** Sends a packet; false if the transport knows it cannot reach `to` (the link is cut). */
  send(from: number, to: number, packet: Packet): boolean;
  /** A membership change was applied by this node. */
  onConfApplied(node: SimNode, index: number, cs: ConfState): void;
  /**
   * Critical moments (fault injection aims at them): the node just became leader, or, as
   * leader, just advanced its commit index for the first time in its term, or just granted a vote.
   */
  onMoment(node: SimNode, moment: Moment): void;
}

export type Moment = "elected" | "first-commit" | "voted";

export interface HostConfig {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly lease: boolean;
  readonly preVote: boolean;
  /** 0: commit advances go out at once; else deferred, sent this long after (SeedPlan). */
  readonly commitDelayUs: number;
  /** 0: apply committed entries at once. Else a follower may hold plain commands this long. */
  readonly applyHoldUs: number;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly knobs: UnsafeTestingKnobs | undefined;
  /** TEST ONLY: answer reads from the local state machine at once, skipping ReadIndex. */
  readonly unsafeLocalReads: boolean;
  /** This node's tick period in simulated microseconds (its clock drift is folded in). */
  readonly tickUs: number;
  readonly fsyncMinUs: number;
  readonly fsyncMaxUs: number;
  /** Snapshot the state machine every this many applied entries. */
  readonly snapshotEvery: number;
  /** Entries kept in the log behind a snapshot (for slow followers). */
  readonly keepEntries: number;
}

interface PendingRead {
  readonly client: number;
  readonly opId: number;
  readonly attempt: number;
  readonly key: string;
}

interface ServableRead extends PendingRead {
  readonly index: number;
}

export type NodeStatus = "up" | "down" | "stopped";

/** As the engine's: held entries are applied once this many wait. */
const MAX_HELD_ENTRIES = 128;

export class SimNode implements Observed {
  raw!: RawNode;
  kv = new KvStore();
  confState!: ConfState;
  status: NodeStatus = "down";
  incarnation = 0;
  readonly disk: SimDisk;
  paused = false;
  /** A Ready was handed out and its fsync has not completed (a crash now tears its writes). */
  awaitingFsync = false;
  /** The Ready is durable but its acknowledgements are not sent yet. */
  awaitingSend = false;
  readonly stats = {
    ticks: 0,
    steps: 0,
    readies: 0,
    crashes: 0,
    pauses: 0,
    snapshots: 0,
    /** Readies whose committed entries were held back (applied later, together). */
    heldApplies: 0,
  };
  private missedTicks = 0;
  private deferred: (() => void)[] = [];
  private readyScheduled = false;
  /** A deferred commit-only broadcast is scheduled (armCommitBroadcast). */
  private commitTimerArmed = false;
  /** Committed entries this follower holds back (the engine's runtime/held-applies.ts). */
  private held: Entry[] = [];
  /** The timer that applies held entries is scheduled (armApplyTimer). */
  private applyTimerArmed = false;
  /** It fired while a Ready was in flight: that Ready's finish applies them first. */
  private applyDue = false;
  private readonly pendingWrites = new Map<string, PendingRead>();
  private readonly pendingReads = new Map<string, PendingRead>();
  private servable: ServableRead[] = [];
  private readSeq = 0;
  private snapshotWanted = false;
  /** Term of this node's current leadership and its commit index then (-1 once it advanced). */
  private leaderTerm = 0;
  private leaderCommit = -1;

  constructor(
    readonly id: number,
    private readonly env: HostEnv,
    private readonly cfg: HostConfig,
    private readonly rng: SimRng,
    initial: LogImage,
  ) {
    this.disk = new SimDisk(initial);
  }

  get storageSnapIndex(): number {
    return this.disk.view.snapIndex;
  }

  get smApplied(): number {
    return this.kv.applied;
  }

  get isUp(): boolean {
    return this.status === "up";
  }

  /** Whether the node is up and believes it leads. */
  get isLeader(): boolean {
    return this.status === "up" && this.raw.raft.role === "leader";
  }

  // ---------------------------------------------------------------- lifecycle

  /** Boots (or reboots) the node from what its disk holds. */
  start(): void {
    this.status = "up";
    this.incarnation++;
    const img = this.disk.view;
    const cp = img.checkpoint;
    if (cp && cp.applied >= img.snapIndex) {
      this.kv = KvStore.decode(cp.data, cp.applied);
      this.confState = cp.confState;
    } else {
      this.kv = KvStore.decode(img.snap.data, img.snapIndex);
      this.confState = img.snap.metadata.confState;
    }
    // A snapshot handed to a follower must be at least as new as what we applied before the
    // restart (it may hold membership changes a joining node needs to find itself in).
    img.minSnapshotIndex = this.kv.applied;
    img.onStaleSnapshot = () => this.wantSnapshot();
    try {
      this.raw = new RawNode({
        id: this.id,
        electionTick: this.cfg.electionTick,
        heartbeatTick: this.cfg.heartbeatTick,
        storage: img,
        applied: this.kv.applied,
        rng: this.rng.fork(this.incarnation),
        checkQuorum: true,
        preVote: this.cfg.preVote,
        deferCommitBroadcast: this.cfg.commitDelayUs > 0,
        readOnlyOption: this.cfg.lease ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
        maxSizePerMsg: this.cfg.maxSizePerMsg,
        maxInflightMsgs: this.cfg.maxInflightMsgs,
        ...(this.cfg.knobs ? { unsafeTestingKnobs: this.cfg.knobs } : {}),
      });
    } catch (e) {
      this.env.checker.fail(
        "restart",
        `node ${this.id} could not restart: ${(e as Error).message}`,
      );
      this.status = "down";
      return;
    }
    this.traceRecord(
      TraceKind.restart,
      [this.id, this.incarnation, this.kv.applied],
      () => `node ${this.id} starts (incarnation ${this.incarnation}, applied ${this.kv.applied})`,
    );
    this.env.checker.now = this.env.queue.now;
    this.env.checker.onStart(this, this.incarnation);
    this.env.checker.observe(this);
    this.scheduleTick(this.rng.range(1, this.cfg.tickUs));
    this.scheduleReady();
  }

  /** Power loss: a random prefix of the unsynced writes survives, everything in memory is lost. */
  crash(): CrashReport {
    const report = this.disk.crash(this.rng);
    this.halt("down");
    this.stats.crashes++;
    this.env.checker.now = this.env.queue.now;
    this.env.checker.onCrash(this.id, this.disk.durable);
    this.env.checker.onDurable(this.id, this.disk.durable);
    this.traceRecord(
      TraceKind.crash,
      [this.id, report.kept, report.lost],
      () => `node ${this.id} crashes (kept ${report.kept} unsynced writes, lost ${report.lost})`,
    );
    return report;
  }

  /** Shuts the node down for good (it was removed from the cluster). */
  stop(): void {
    this.halt("stopped");
    this.traceRecord(TraceKind.stop, [this.id], () => `node ${this.id} stops (removed)`);
  }

  private halt(status: NodeStatus): void {
    this.status = status;
    this.incarnation++;
    this.paused = false;
    this.missedTicks = 0;
    this.deferred = [];
    this.readyScheduled = false;
    this.commitTimerArmed = false;
    // Held entries were only in memory: the restart applies them again from the log.
    this.held = [];
    this.applyTimerArmed = false;
    this.applyDue = false;
    this.awaitingFsync = false;
    this.awaitingSend = false;
    this.pendingWrites.clear();
    this.pendingReads.clear();
    this.servable = [];
    this.snapshotWanted = false;
  }

  /** Freezes the node for `us` microseconds: no ticks, no messages handled until it resumes. */
  pause(us: number): void {
    if (this.status !== "up" || this.paused) return;
    this.paused = true;
    this.stats.pauses++;
    const inc = this.incarnation;
    this.traceRecord(TraceKind.pause, [this.id, us], () => `node ${this.id} pauses for ${us}us`);
    this.env.queue.after(us, () => {
      if (inc === this.incarnation && this.status === "up") this.resume();
    });
  }

  resume(): void {
    if (!this.paused) return;
    this.paused = false;
    const missed = this.missedTicks;
    this.missedTicks = 0;
    this.traceRecord(
      TraceKind.resume,
      [this.id, missed],
      () => `node ${this.id} resumes, catching up ${missed} ticks`,
    );
    // Catch up the clock first, so nothing is decided on a stale notion of time.
    for (let i = 0; i < missed && this.status === "up"; i++) this.tickOnce();
    const deferred = this.deferred;
    this.deferred = [];
    for (const fn of deferred) fn();
    this.scheduleReady();
  }

  /** Runs `fn` now if the node is up and running, later if paused, never if it went down. */
  private guarded(fn: () => void): () => void {
    const inc = this.incarnation;
    const g = (): void => {
      if (inc !== this.incarnation || this.status !== "up") return;
      if (this.paused) {
        this.deferred.push(g);
        return;
      }
      fn();
    };
    return g;
  }

  // ---------------------------------------------------------------- core calls

  /**
   * Calls into the core and checks the invariants right after. RaftErrors with an `expected`
   * code are rethrown to the caller; any other exception is a violation.
   */
  private call<T>(fn: () => T, expected: readonly RaftErrorCode[] = []): T | undefined {
    const r = this.raw.raft;
    const msgs0 = r.msgs.length;
    const reads0 = r.readStates.length;
    this.stats.steps++;
    try {
      return fn();
    } catch (e) {
      if (isRaftError(e) && expected.includes(e.code)) throw e;
      // A late response from a node that was just removed: the contract says drop it.
      if (isRaftError(e, "step-peer-not-found")) return undefined;
      this.env.checker.fail(
        "core-error",
        `node ${this.id} threw ${(e as Error).name}: ${(e as Error).message}`,
      );
      return undefined;
    } finally {
      const c = this.env.checker;
      c.now = this.env.queue.now;
      c.observe(this);
      if (this.raw.raft.msgs === r.msgs) c.checkReads(this, msgs0, reads0);
    }
  }

  private tickOnce(): void {
    this.stats.ticks++;
    // In the hash, not in verbose output (too many lines to be useful).
    this.env.trace.add(TraceKind.tick, this.env.queue.now, [this.id]);
    this.call(() => this.raw.tick());
  }

  private scheduleTick(delay: number): void {
    const inc = this.incarnation;
    this.env.queue.after(delay, () => {
      if (inc !== this.incarnation || this.status !== "up") return;
      this.scheduleTick(this.cfg.tickUs);
      if (this.paused) {
        this.missedTicks++;
        return;
      }
      this.tickOnce();
      this.scheduleReady();
    });
  }

  /** A Raft message arrived from the network. */
  receive(m: Message): void {
    if (this.status !== "up") return;
    if (this.paused) {
      this.deferred.push(() => this.receive(m));
      return;
    }
    this.traceRecord(
      TraceKind.deliver,
      [
        m.from,
        m.to,
        m.type,
        m.term,
        m.index,
        m.logTerm,
        m.commit,
        m.entries.length,
        m.reject ? 1 : 0,
      ],
      () =>
        `${m.from}->${m.to} ${MessageType[m.type]} term=${m.term} index=${m.index} ` +
        `logTerm=${m.logTerm} commit=${m.commit} entries=${m.entries.length}${m.reject ? " reject" : ""}`,
    );
    this.call(() => this.raw.step(m));
    this.scheduleReady();
  }

  // ---------------------------------------------------------------- the Ready loop

  private scheduleReady(): void {
    if (this.readyScheduled || this.status !== "up") return;
    this.readyScheduled = true;
    this.env.queue.after(
      0,
      this.guarded(() => {
        this.readyScheduled = false;
        this.handleReady();
      }),
    );
  }

  private handleReady(): void {
    if (this.awaitingFsync || this.awaitingSend || !this.raw.hasReady()) return;
    const rd = this.call(() => this.raw.ready());
    if (!rd) return;
    this.stats.readies++;
    const hs = rd.hardState;
    this.traceRecord(
      TraceKind.ready,
      [
        this.id,
        rd.entries.length,
        rd.committedEntries.length,
        rd.messages.length,
        rd.messagesAfterPersist.length,
        hs ? hs.term : -1,
        hs ? hs.vote : -1,
        hs ? hs.commit : -1,
        rd.snapshot ? rd.snapshot.metadata.index : -1,
      ],
      () =>
        `node ${this.id} ready: ${rd.entries.length} entries, ${rd.committedEntries.length} ` +
        `committed, ${rd.messages.length}+${rd.messagesAfterPersist.length} messages` +
        (hs ? `, hard state term=${hs.term} vote=${hs.vote} commit=${hs.commit}` : "") +
        (rd.softState ? `, ${rd.softState.role} (leader ${rd.softState.lead})` : "") +
        (rd.snapshot ? `, snapshot at ${rd.snapshot.metadata.index}` : ""),
    );
    const r = this.raw.raft;
    if (rd.softState?.role === "leader") {
      this.leaderTerm = r.term;
      this.leaderCommit = r.log.committed;
      this.env.onMoment(this, "elected");
    } else if (
      hs &&
      r.role === "leader" &&
      this.leaderTerm === r.term &&
      this.leaderCommit >= 0 &&
      hs.commit > this.leaderCommit
    ) {
      this.leaderCommit = -1;
      this.env.onMoment(this, "first-commit");
    }
    if (grantsVote(rd.messages) || grantsVote(rd.messagesAfterPersist)) {
      this.env.onMoment(this, "voted");
    }
    // 1. Messages that may travel before the write is durable.
    this.sendAll(rd.messages);
    // 2. Persist: snapshot (restoring the state machine from it), entries, then hard state.
    if (rd.snapshot) {
      const s = rd.snapshot;
      // As the engine does: what is held is applied before the snapshot replaces it.
      this.applyHeld();
      this.disk.write({ kind: "snapshot", snap: s });
      this.kv = KvStore.decode(s.data, s.metadata.index);
      this.confState = s.metadata.confState;
      this.serveReads();
    }
    // In the order persistSteps gives (a commit covering the previous membership change before
    // the next change). The simulated disk keeps a prefix of pending writes, so ordered writes
    // model what a real runtime gets with one fsync per step.
    for (const step of persistSteps(rd.entries, hs)) {
      for (const e of step.entries) this.disk.write({ kind: "entry", entry: e });
      if (step.hardState) this.disk.write({ kind: "hardState", hs: step.hardState });
    }
    this.awaitingFsync = true;
    if (!rd.mustSync) {
      this.awaitingFsync = false;
      this.awaitingSend = true;
      this.finishReady(rd);
      return;
    }
    const fsyncUs = this.rng.range(this.cfg.fsyncMinUs, this.cfg.fsyncMaxUs);
    this.env.queue.after(
      fsyncUs,
      this.guarded(() => {
        this.disk.fsync();
        this.env.checker.now = this.env.queue.now;
        this.env.checker.onDurable(this.id, this.disk.durable);
        this.awaitingFsync = false;
        this.awaitingSend = true;
        this.traceRecord(TraceKind.fsync, [this.id], () => `node ${this.id} fsync done`);
        // The write is durable; the acknowledgements go out a moment later (a crash can fall
        // in between).
        this.env.queue.after(
          this.rng.range(0, 200),
          this.guarded(() => this.finishReady(rd)),
        );
      }),
    );
  }

  private finishReady(rd: ReturnType<RawNode["ready"]>): void {
    // 3. Acknowledgements and votes, now that the write is durable.
    this.sendAll(rd.messagesAfterPersist);
    // 4. Apply committed entries, or hold them (a follower's plain commands).
    if (this.applyDue) {
      this.applyDue = false;
      this.applyHeld();
    }
    const committed = rd.committedEntries;
    if (this.mayHold(committed)) {
      if (committed.length > 0) this.stats.heldApplies++;
      for (const e of committed) this.held.push(e);
      if (this.held.length >= MAX_HELD_ENTRIES) this.applyHeld();
    } else {
      this.applyHeld();
      this.applyEntries(committed);
    }
    // 5. Reads (a read waiting for the state machine does not wait for the held entries).
    for (const rs of rd.readStates) this.onReadState(rs);
    for (const ctx of rd.droppedReads) this.onDroppedRead(ctx);
    if (this.held.length > 0 && this.servable.length > 0) this.applyHeld();
    this.serveReads();
    // 6. Advance.
    this.awaitingSend = false;
    this.call(() => this.raw.advance());
    this.maybeSnapshot();
    this.armCommitBroadcast();
    this.armApplyTimer();
    this.scheduleReady();
  }

  /** Whether a Ready's committed entries may be held: the engine's mayHold (held-applies.ts). */
  private mayHold(entries: readonly Entry[]): boolean {
    if (this.cfg.applyHoldUs <= 0 || this.raw.raft.role !== "follower") return false;
    if (this.pendingWrites.size > 0) return false;
    for (const e of entries) if (e.type !== EntryType.Normal) return false;
    return true;
  }

  private applyEntries(entries: readonly Entry[]): void {
    for (const e of entries) this.applyEntry(e);
    if (entries.length > 0) {
      this.disk.write({
        kind: "checkpoint",
        cp: { applied: this.kv.applied, data: this.kv.encode(), confState: this.confState },
      });
    }
  }

  private applyHeld(): void {
    if (this.held.length === 0) return;
    const held = this.held;
    this.held = [];
    this.applyEntries(held);
  }

  /** Applies held entries after applyHoldUs (between Readies, as the engine's loop does). */
  private armApplyTimer(): void {
    if (this.applyTimerArmed || this.held.length === 0) return;
    this.applyTimerArmed = true;
    this.env.queue.after(
      this.cfg.applyHoldUs,
      this.guarded(() => {
        this.applyTimerArmed = false;
        if (this.awaitingFsync || this.awaitingSend) {
          this.applyDue = true;
          return;
        }
        this.applyHeld();
        this.serveReads();
        this.env.checker.now = this.env.queue.now;
        this.env.checker.observe(this);
      }),
    );
  }

  /** Sends a deferred commit-only broadcast after commitDelayUs unless new entries carry it. */
  private armCommitBroadcast(): void {
    if (this.commitTimerArmed || !this.raw.hasPendingCommitBroadcast()) return;
    this.commitTimerArmed = true;
    // guarded: dropped after a crash or stop (which clear commitTimerArmed), held over a pause.
    this.env.queue.after(
      this.cfg.commitDelayUs,
      this.guarded(() => {
        this.commitTimerArmed = false;
        if (this.call(() => this.raw.broadcastCommit())) this.scheduleReady();
      }),
    );
  }

  private sendAll(msgs: readonly Message[]): void {
    if (msgs.length === 0) return;
    this.env.checker.onSend(this.id, msgs);
    for (const m of msgs) {
      const reachable = this.env.send(this.id, m.to, { kind: "raft", msg: m });
      if (m.type === MessageType.Snap) {
        // The transport streams the snapshot and reports how that went (contract item 6).
        const to = m.to;
        this.env.queue.after(
          this.rng.range(1000, 20_000),
          this.guarded(() => {
            this.call(() => this.raw.reportSnapshot(to, reachable));
            this.scheduleReady();
          }),
        );
      } else if (!reachable && m.type === MessageType.App) {
        // The connection is down (contract item 7).
        const to = m.to;
        this.env.queue.after(
          0,
          this.guarded(() => {
            this.call(() => this.raw.reportUnreachable(to));
            this.scheduleReady();
          }),
        );
      }
    }
  }

  /** A follower needs a snapshot newer than the stored one: take one shortly. */
  private wantSnapshot(): void {
    if (this.snapshotWanted) return;
    this.snapshotWanted = true;
    this.env.queue.after(
      this.rng.range(500, 5000),
      this.guarded(() => {
        this.snapshotWanted = false;
        if (!this.awaitingFsync && !this.awaitingSend) this.maybeSnapshot(true);
        else this.wantSnapshot();
      }),
    );
  }

  private applyEntry(e: Entry): void {
    this.env.checker.onApply(this.id, e);
    this.env.trace.add(TraceKind.apply, this.env.queue.now, [this.id, e.index, e.term]);
    if (e.type === EntryType.ConfChange) {
      this.disk.view.minSnapshotIndex = e.index;
      const cc = RawNode.decodeConfChange(e);
      const cs = this.call(() => this.raw.applyConfChange(cc));
      if (cs) {
        this.confState = cs;
        this.env.onConfApplied(this, e.index, cs);
      }
    } else if (e.data.length > 0) {
      const cmd = decodeCommand(e.data);
      const res = this.kv.apply(e.index, cmd);
      if (res.effect) this.env.checker.onEffect(this.id, cmd.client, cmd.seq, e.index);
      const k = `${cmd.client}:${cmd.seq}`;
      const p = this.pendingWrites.get(k);
      if (p && res.output.kind !== "unknown") {
        this.pendingWrites.delete(k);
        this.reply({ kind: "done", client: p.client, opId: p.opId, output: res.output });
      }
    }
    this.kv.applied = e.index;
  }

  /** Snapshots the state machine and compacts the log once enough entries were applied. */
  private maybeSnapshot(force = false): void {
    const img = this.disk.view;
    const index = this.kv.applied;
    if (index <= img.snapIndex || (!force && index - img.snapIndex < this.cfg.snapshotEvery))
      return;
    if (index > img.lastIndex()) return;
    this.stats.snapshots++;
    this.disk.write({
      kind: "localSnapshot",
      snap: {
        metadata: { index, term: img.term(index), confState: this.confState },
        data: this.kv.encode(),
      },
    });
    const compactTo = index - this.cfg.keepEntries;
    if (compactTo > img.firstIndex() - 1) this.disk.write({ kind: "compact", index: compactTo });
    this.traceRecord(
      TraceKind.snapshot,
      [this.id, index, compactTo],
      () => `node ${this.id} snapshots at ${index}, compacts to ${compactTo}`,
    );
    this.env.checker.now = this.env.queue.now;
    this.env.checker.observe(this);
  }

  /** Takes a snapshot now (an operator action during chaos). */
  snapshotNow(): void {
    if (this.status === "up" && !this.paused) this.maybeSnapshot(true);
  }

  /**
   * An operator action on this node's core (propose a membership change, transfer leadership).
   * Returns false if the node is not running or the core refused.
   */
  admin(what: string, fn: (raw: RawNode) => void): boolean {
    if (this.status !== "up" || this.paused) return false;
    try {
      this.call(() => fn(this.raw), ["conf-change-rejected", "proposal-dropped"]);
    } catch {
      return false;
    }
    this.env.trace.note(this.env.queue.now, `node ${this.id}: ${what}`);
    this.scheduleReady();
    return true;
  }

  // ---------------------------------------------------------------- clients

  onRequest(req: ClientRequest): void {
    if (this.status !== "up") return;
    if (this.paused) {
      this.deferred.push(() => this.onRequest(req));
      return;
    }
    this.traceRecord(
      TraceKind.request,
      [this.id, req.client, req.opId, req.attempt, req.seq],
      () => `node ${this.id} gets client ${req.client} op ${req.opId} (${req.input.op} ${req.key})`,
    );
    if (req.input.op === "get") this.startRead(req);
    else this.startWrite(req);
    this.scheduleReady();
  }

  private startRead(req: ClientRequest): void {
    if (this.cfg.unsafeLocalReads) {
      const output: KvOutput = { kind: "value", value: this.kv.read(req.key) };
      this.reply({ kind: "done", client: req.client, opId: req.opId, output });
      return;
    }
    // Unique across the cluster and never reused: node, incarnation, counter.
    const ctx = `r${this.id}.${this.incarnation}.${++this.readSeq}`;
    this.pendingReads.set(ctx, {
      client: req.client,
      opId: req.opId,
      attempt: req.attempt,
      key: req.key,
    });
    try {
      this.call(() => this.raw.readIndex(ascii(ctx)), ["read-dropped"]);
    } catch {
      this.pendingReads.delete(ctx);
      this.retry(req, this.raw.leader);
    }
  }

  private startWrite(req: ClientRequest): void {
    const s = this.kv.session(req.client);
    if (s && s.seq === req.seq) {
      // Already applied (so committed): answer with the recorded result.
      this.reply({ kind: "done", client: req.client, opId: req.opId, output: s.output });
      return;
    }
    if (s && s.seq > req.seq) return; // the client has moved on
    const data = encodeCommand({
      client: req.client,
      seq: req.seq,
      key: req.key,
      input: req.input,
    });
    const k = `${req.client}:${req.seq}`;
    this.pendingWrites.set(k, {
      client: req.client,
      opId: req.opId,
      attempt: req.attempt,
      key: req.key,
    });
    try {
      this.call(() => this.raw.propose(data), ["proposal-dropped"]);
    } catch (e) {
      this.pendingWrites.delete(k);
      this.retry(req, isRaftError(e) ? (e.leaderHint ?? this.raw.leader) : 0);
    }
  }

  private retry(req: ClientRequest, hint: number): void {
    this.reply({ kind: "retry", client: req.client, opId: req.opId, attempt: req.attempt, hint });
  }

  private onReadState(rs: ReadState): void {
    const ctx = fromAscii(rs.context);
    const p = this.pendingReads.get(ctx);
    if (!p) return;
    this.pendingReads.delete(ctx);
    this.servable.push({ ...p, index: rs.index });
  }

  private onDroppedRead(context: Uint8Array): void {
    const ctx = fromAscii(context);
    const p = this.pendingReads.get(ctx);
    if (!p) return;
    this.pendingReads.delete(ctx);
    this.reply({ kind: "retry", client: p.client, opId: p.opId, attempt: p.attempt, hint: 0 });
  }

  /** Answers reads whose read index the state machine has reached. */
  private serveReads(): void {
    if (this.servable.length === 0) return;
    const waiting: ServableRead[] = [];
    for (const r of this.servable) {
      if (r.index <= this.kv.applied) {
        const output: KvOutput = { kind: "value", value: this.kv.read(r.key) };
        this.reply({ kind: "done", client: r.client, opId: r.opId, output });
      } else waiting.push(r);
    }
    this.servable = waiting;
  }

  private reply(resp: ClientResponse): void {
    this.env.send(this.id, clientAddress(resp.client), { kind: "response", resp });
  }

  private traceRecord(kind: number, details: readonly number[], describe: () => string): void {
    this.env.trace.add(kind, this.env.queue.now, details, describe);
  }
}

function grantsVote(msgs: readonly Message[]): boolean {
  for (const m of msgs) if (m.type === MessageType.VoteResp && !m.reject) return true;
  return false;
}

/**
 * The disk of a node of the initial cluster: a snapshot at index 1 (term 1) holding the bootstrap
 * membership. Because no log holds index 1, a leader can only bring a node that joins later up to
 * date with a snapshot, which carries the membership; replaying the log from index 1 would have
 * the newcomer apply membership changes to an empty configuration.
 */
export function bootstrapImage(voters: readonly number[], learners: readonly number[]): LogImage {
  const img = new LogImage();
  img.apply({
    kind: "snapshot",
    snap: {
      metadata: {
        index: BOOTSTRAP_INDEX,
        term: BOOTSTRAP_TERM,
        confState: {
          voters: [...voters],
          learners: [...learners],
          votersOutgoing: [],
          learnersNext: [],
          autoLeave: false,
        },
      },
      data: new Uint8Array(0),
    },
  });
  img.apply({ kind: "hardState", hs: { term: BOOTSTRAP_TERM, vote: 0, commit: BOOTSTRAP_INDEX } });
  return img;
}

export const BOOTSTRAP_INDEX = 1;
export const BOOTSTRAP_TERM = 1;

/** The disk of a node about to join: empty, no membership (it learns it from a snapshot). */
export function joiningImage(): LogImage {
  return new LogImage();
}
