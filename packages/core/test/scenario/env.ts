// The interaction environment behind the scenario files: real RawNodes over MemoryStorage, a
// network that is an ordered list of in-flight messages, and an output buffer that receives both
// what the commands print and what the nodes log. Nothing happens unless a command says so: a
// Ready is handled only by process-ready/stabilize, a message moves only by deliver-msgs/stabilize.
//
// The environment follows the runtime contract (persist, then send, then apply, then advance) and
// checks two Raft safety properties after every command: at most one leader per term, and every
// node applies the same entry at a given index.

import {
  type ConfChange,
  type ConfState,
  type Entry,
  EntryType,
  type Logger,
  MemoryStorage,
  type Message,
  MessageType,
  type NodeId,
  RaftError,
  RawNode,
  ReadOnlyOption,
  type Ready,
  type Snapshot,
  StateRole,
  seededRng,
} from "../../src/index.js";
import { fromAscii as dec, ascii as enc } from "../../src/testing/bytes.js";
import { formatConfState, formatEntry, formatMessage, formatSnapshot } from "./print.js";

export interface NodeOptions {
  readonly electionTick: number;
  readonly heartbeatTick: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly lease: boolean;
  readonly maxInflightMsgs?: number;
  readonly maxSizePerMsg?: number;
  readonly seed: number;
}

export type LogLevel = "debug" | "info" | "none";

/**
 * MemoryStorage whose snapshot() first snapshots the state machine at its applied index, as a
 * runtime does when the leader needs a snapshot for a follower: the snapshot then carries the
 * current membership, which a node that joins the cluster must find in it.
 */
class ScenarioStorage extends MemoryStorage {
  onSnapshot: ((current: Snapshot) => Snapshot | undefined) | undefined;

  override snapshot(): Snapshot {
    const current = super.snapshot();
    return this.onSnapshot?.(current) ?? current;
  }

  /** The snapshot as stored, without making a new one. */
  stored(): Snapshot {
    return super.snapshot();
  }
}

interface ScenarioNode {
  readonly id: NodeId;
  raw: RawNode;
  readonly storage: ScenarioStorage;
  readonly opts: NodeOptions;
  /** The state machine: payloads of applied application entries, with their index. */
  stateMachine: Array<{ index: number; data: string }>;
  /** The membership after each applied conf change (and as of the latest snapshot). */
  confs: Array<{ index: number; cs: ConfState }>;
  incarnation: number;
}

export class InteractionEnv {
  private readonly nodes = new Map<NodeId, ScenarioNode>();
  /** Messages sent and not yet delivered or dropped, in send order. */
  private inFlight: Message[] = [];
  /** Directed links that carry nothing: "from->to". */
  private readonly cut = new Set<string>();
  private out: string[] = [];
  private indent = "";
  logLevel: LogLevel = "info";
  /** Election safety: the leader seen for each term. */
  private readonly leaders = new Map<number, NodeId>();
  /** State machine safety: the entry applied at each index, by whichever node applied it first. */
  private readonly appliedAt = new Map<number, string>();

  // ------------------------------------------------------------ output

  /** Prints a line of output; with log-level none nothing is printed at all (quiet setup). */
  print(line: string): void {
    if (this.logLevel === "none") return;
    for (const l of line.split("\n")) this.out.push(this.indent + l);
  }

  /** Returns (and clears) everything printed since the last call. */
  takeOutput(): string {
    const s = this.out.join("\n");
    this.out = [];
    return s;
  }

  private logger(): Logger {
    const emit = (level: string, shownAt: LogLevel[]) => (msg: string) => {
      if (shownAt.includes(this.logLevel)) this.print(`${level} ${msg}`);
    };
    return {
      debug: emit("DEBUG", ["debug"]),
      info: emit("INFO", ["debug", "info"]),
      warn: emit("WARN", ["debug", "info"]),
    };
  }

  private nested(fn: () => void): void {
    const saved = this.indent;
    this.indent += "  ";
    try {
      fn();
    } finally {
      this.indent = saved;
    }
  }

  // ------------------------------------------------------------ nodes

  node(id: NodeId): ScenarioNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  ids(): NodeId[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  /**
   * Adds `count` fresh nodes with the next free ids. With voters they start as members of that
   * configuration (at `index`, as if from a snapshot); without, they start empty and learn the
   * configuration from the leader (the way a node joins a running cluster).
   */
  addNodes(
    count: number,
    voters: readonly NodeId[],
    learners: readonly NodeId[],
    index: number,
    opts: NodeOptions,
  ): void {
    for (let k = 0; k < count; k++) {
      const id = this.nodes.size + 1;
      const storage = new ScenarioStorage();
      if (voters.length > 0) {
        const cs: ConfState = {
          voters,
          learners,
          votersOutgoing: [],
          learnersNext: [],
          autoLeave: false,
        };
        const term = index > 0 ? 1 : 0;
        storage.applySnapshot({
          metadata: { index, term, confState: cs },
          data: new Uint8Array(0),
        });
        if (index > 0) storage.setHardState({ term, vote: 0, commit: index });
      }
      const node: ScenarioNode = {
        id,
        raw: this.newRawNode(id, storage, opts, 0),
        storage,
        opts,
        stateMachine: [],
        confs: [{ index, cs: storage.initialState().confState }],
        incarnation: 0,
      };
      storage.onSnapshot = (current) => this.snapshotOnDemand(node, current);
      this.nodes.set(id, node);
    }
  }

  private snapshotOnDemand(n: ScenarioNode, current: Snapshot): Snapshot | undefined {
    const applied = n.raw.raft.log.applied;
    if (applied <= current.metadata.index) return undefined;
    const { cs, data } = this.stateAt(n, applied);
    return n.storage.createSnapshot(applied, cs, data);
  }

  /** The membership and state machine data as of an applied index. */
  private stateAt(n: ScenarioNode, index: number): { cs: ConfState; data: Uint8Array } {
    let cs: ConfState | undefined;
    for (const c of n.confs) if (c.index <= index) cs = c.cs;
    if (!cs) throw new Error(`node ${n.id}: membership at ${index} is unknown`);
    const data = n.stateMachine.filter((a) => a.index <= index).map((a) => a.data);
    return { cs, data: enc(data.join(",")) };
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, o: NodeOptions, incarnation: number) {
    return new RawNode({
      id,
      storage,
      electionTick: o.electionTick,
      heartbeatTick: o.heartbeatTick,
      preVote: o.preVote,
      checkQuorum: o.checkQuorum,
      readOnlyOption: o.lease ? ReadOnlyOption.LeaseBased : ReadOnlyOption.Safe,
      // A distinct, reproducible stream per node and per incarnation.
      rng: seededRng(o.seed * 1_000_003 + id * 101 + incarnation),
      logger: this.logger(),
      ...(o.maxInflightMsgs !== undefined ? { maxInflightMsgs: o.maxInflightMsgs } : {}),
      ...(o.maxSizePerMsg !== undefined ? { maxSizePerMsg: o.maxSizePerMsg } : {}),
    });
  }

  /**
   * Crashes a node and starts it again from its storage. What the node had not yet handed out in
   * a Ready (and so never persisted) is lost; the state machine restarts from the snapshot and
   * re-applies the committed log.
   */
  restart(id: NodeId): void {
    const n = this.node(id);
    n.incarnation++;
    const snap = n.storage.stored();
    n.stateMachine = decodeStateMachine(snap.data, snap.metadata.index);
    n.confs = [{ index: snap.metadata.index, cs: snap.metadata.confState }];
    n.raw = this.newRawNode(id, n.storage, n.opts, n.incarnation);
  }

  // ------------------------------------------------------------ time and intents

  tick(id: NodeId, times: number): void {
    const raw = this.node(id).raw;
    for (let i = 0; i < times; i++) raw.tick();
  }

  /** Ticks until the node's election timer (a leader's check-quorum timer) fires. */
  tickElection(id: NodeId): void {
    const r = this.node(id).raw.raft;
    const left =
      r.role === StateRole.Leader
        ? r.cfg.electionTick - r.electionElapsed
        : r.randomizedElectionTimeout - r.electionElapsed;
    this.tick(id, Math.max(1, left));
  }

  tickHeartbeat(id: NodeId): void {
    this.tick(id, this.node(id).raw.raft.cfg.heartbeatTick);
  }

  /** Runs a client intent; a RaftError it throws is printed, not raised. */
  intent(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      if (!(e instanceof RaftError)) throw e;
      const hint = e.leaderHint !== undefined ? ` (leader hint ${e.leaderHint})` : "";
      this.print(`error: ${e.code}: ${e.message}${hint}`);
    }
  }

  propose(id: NodeId, data: string): void {
    // Snapshot data is the applied payloads joined by ",", so a payload cannot contain one.
    if (data.includes(",")) throw new Error(`propose: payload ${JSON.stringify(data)} has a ","`);
    this.intent(() => this.printProposeResult(this.node(id).raw.propose(enc(data))));
  }

  proposeConfChange(id: NodeId, cc: ConfChange): void {
    this.intent(() => this.printProposeResult(this.node(id).raw.proposeConfChange(cc)));
  }

  private printProposeResult(r: ReturnType<RawNode["propose"]>): void {
    this.print(r.kind === "appended" ? `appended at ${r.term}/${r.index}` : `forwarded to ${r.to}`);
  }

  // ------------------------------------------------------------ Readies

  /** Handles one Ready of `id` the way a runtime must. Returns false if it had none. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    this.print(`> ${id} handling Ready${rd.mustSync ? " (must sync)" : ""}`);
    this.nested(() => {
      this.printReady(rd);
      this.persistSendApply(n, rd);
      n.raw.advance();
    });
    this.checkSafety();
    return true;
  }

  private printReady(rd: Ready): void {
    const list = (title: string, items: readonly string[]) => {
      if (items.length === 0) return;
      this.print(`${title}:`);
      this.nested(() => {
        for (const s of items) this.print(s);
      });
    };
    if (rd.softState) this.print(`soft state: ${rd.softState.role} lead=${rd.softState.lead}`);
    if (rd.hardState) {
      const h = rd.hardState;
      this.print(`hard state: term=${h.term} vote=${h.vote} commit=${h.commit}`);
    }
    if (rd.snapshot) this.print(`snapshot: ${formatSnapshot(rd.snapshot)}`);
    list("entries", rd.entries.map(formatEntry));
    list("committed entries", rd.committedEntries.map(formatEntry));
    list(
      "messages",
      rd.messages.map((m) => this.describeSend(m)),
    );
    list(
      "messages after persist",
      rd.messagesAfterPersist.map((m) => this.describeSend(m)),
    );
    list(
      "read states",
      rd.readStates.map((s) => `index=${s.index} ctx=${JSON.stringify(dec(s.context))}`),
    );
    list(
      "dropped reads",
      rd.droppedReads.map((c) => `ctx=${JSON.stringify(dec(c))}`),
    );
  }

  private describeSend(m: Message): string {
    return this.isCut(m) ? `${formatMessage(m)} (dropped: partitioned)` : formatMessage(m);
  }

  private persistSendApply(n: ScenarioNode, rd: Ready): void {
    // Messages that may go before the write.
    this.send(rd.messages);
    if (rd.snapshot) {
      n.storage.applySnapshot(rd.snapshot);
      n.stateMachine = decodeStateMachine(rd.snapshot.data, rd.snapshot.metadata.index);
      n.confs = [{ index: rd.snapshot.metadata.index, cs: rd.snapshot.metadata.confState }];
    }
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // The write is durable: votes and acknowledgements may go now.
    this.send(rd.messagesAfterPersist);
    for (const e of rd.committedEntries) this.apply(n, e);
  }

  private apply(n: ScenarioNode, e: Entry): void {
    const text = formatEntry(e);
    const seen = this.appliedAt.get(e.index);
    if (seen === undefined) this.appliedAt.set(e.index, text);
    else if (seen !== text) {
      throw new Error(
        `SAFETY VIOLATION: node ${n.id} applied ${text} at index ${e.index}, another node applied ${seen}`,
      );
    }
    if (e.type === EntryType.ConfChange) {
      const cs = n.raw.applyConfChange(RawNode.decodeConfChange(e));
      n.confs.push({ index: e.index, cs });
    } else if (e.data.length > 0) {
      n.stateMachine.push({ index: e.index, data: dec(e.data) });
    }
  }

  private checkSafety(): void {
    for (const n of this.nodes.values()) {
      const r = n.raw.raft;
      if (r.role !== StateRole.Leader) continue;
      const seen = this.leaders.get(r.term);
      if (seen === undefined) this.leaders.set(r.term, n.id);
      else if (seen !== n.id) {
        throw new Error(`SAFETY VIOLATION: nodes ${seen} and ${n.id} both led term ${r.term}`);
      }
    }
  }

  // ------------------------------------------------------------ network

  private isCut(m: Message): boolean {
    return this.cut.has(`${m.from}->${m.to}`);
  }

  private send(msgs: readonly Message[]): void {
    for (const m of msgs) if (!this.isCut(m)) this.inFlight.push(m);
  }

  /**
   * Delivers (or, with drop, discards) the in-flight messages addressed to each of `ids`,
   * optionally only those of the given types.
   */
  deliver(ids: readonly NodeId[], drop: boolean, types?: readonly string[]): number {
    let moved = 0;
    for (const id of ids) {
      const match = (m: Message) =>
        m.to === id && (types === undefined || types.includes(messageTypeName(m)));
      const batch = this.inFlight.filter(match);
      if (batch.length === 0) continue;
      this.inFlight = this.inFlight.filter((m) => !match(m));
      moved += batch.length;
      if (drop) {
        this.print(`> ${id} dropping messages`);
        this.nested(() => {
          for (const m of batch) this.print(formatMessage(m));
        });
        continue;
      }
      this.print(`> ${id} receiving messages`);
      const raw = this.node(id).raw;
      this.nested(() => {
        for (const m of batch) {
          this.print(formatMessage(m));
          this.intent(() => raw.step(m));
        }
      });
      this.checkSafety();
    }
    return moved;
  }

  /** Handles Readies and delivers messages among `ids` until nothing moves. */
  stabilize(ids: readonly NodeId[]): void {
    for (let round = 0; round < 10_000; round++) {
      let moved = false;
      for (const id of ids) if (this.processReady(id)) moved = true;
      if (this.deliver(ids, false) > 0) moved = true;
      if (!moved) return;
    }
    throw new Error("did not stabilize within 10000 rounds");
  }

  /** Cuts every link between nodes of different groups, both ways; in-flight messages are lost. */
  partition(groups: ReadonlyArray<readonly NodeId[]>): void {
    groups.forEach((a, i) => {
      groups.forEach((b, j) => {
        if (i === j) return;
        for (const x of a) for (const y of b) this.cut.add(`${x}->${y}`);
      });
    });
    const lost = this.inFlight.filter((m) => this.isCut(m));
    this.inFlight = this.inFlight.filter((m) => !this.isCut(m));
    for (const m of lost) this.print(`dropped in flight: ${formatMessage(m)}`);
  }

  isolate(id: NodeId): void {
    this.partition([[id], this.ids().filter((x) => x !== id)]);
  }

  heal(): void {
    this.cut.clear();
  }

  // ------------------------------------------------------------ storage

  /** Snapshots the node's state machine at `index` (applied) and compacts its log up to it. */
  compact(id: NodeId, index: number): void {
    const n = this.node(id);
    const applied = n.raw.raft.log.applied;
    if (index > applied) throw new Error(`compact ${id} ${index}: only applied up to ${applied}`);
    const { cs, data } = this.stateAt(n, index);
    const snap = n.storage.createSnapshot(index, cs, data);
    n.storage.compact(index);
    this.print(`snapshot ${formatSnapshot(snap)}; log now starts at ${n.storage.firstIndex()}`);
  }

  // ------------------------------------------------------------ inspection

  status(id: NodeId): void {
    const raw = this.node(id).raw;
    const r = raw.raft;
    const st = raw.status();
    const h = st.hardState;
    this.print(
      `${st.softState.role} term=${h.term} vote=${h.vote} lead=${st.softState.lead} ` +
        `commit=${h.commit} applied=${st.applied} first=${st.firstIndex} last=${st.lastIndex}`,
    );
    this.print(
      `config: ${formatConfState(st.config)}${r.isLearner ? " (this node is a learner)" : ""}`,
    );
    if (st.leadTransferee !== 0) this.print(`transferring leadership to ${st.leadTransferee}`);
    if (r.role !== StateRole.Leader) return;
    this.print("progress:");
    this.nested(() => {
      r.tracker.visit((pid, pr) => this.print(`${pid}: ${pr.toString()}`));
    });
  }

  raftLog(id: NodeId): void {
    const n = this.node(id);
    const log = n.raw.raft.log;
    const first = log.firstIndex();
    if (first > 1) {
      const snap = n.storage.stored();
      this.print(
        `compacted up to ${first - 1} (snapshot ${snap.metadata.term}/${snap.metadata.index})`,
      );
    }
    const ents = log.allEntries();
    if (ents.length === 0) this.print("no entries");
    const stable = log.lastStableIndex();
    for (const e of ents) {
      const marks = [
        e.index <= log.committed ? "" : " (uncommitted)",
        e.index <= stable ? "" : " (unstable)",
      ];
      this.print(`${formatEntry(e)}${marks.join("")}`);
    }
  }

  /** The application data a node has applied, in order. */
  stateMachine(id: NodeId): void {
    const n = this.node(id);
    const data = n.stateMachine.map((a) => JSON.stringify(a.data));
    this.print(
      `applied up to ${n.raw.raft.log.applied}: ${data.length === 0 ? "nothing" : data.join(" ")}`,
    );
  }
}

function messageTypeName(m: Message): string {
  return MessageType[m.type];
}

function decodeStateMachine(
  data: Uint8Array,
  index: number,
): Array<{ index: number; data: string }> {
  const s = dec(data);
  // Snapshot data is the applied payloads joined by ","; their own indexes are not needed again.
  return s === "" ? [] : s.split(",").map((d) => ({ index, data: d }));
}
