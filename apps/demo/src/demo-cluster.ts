// The demo's cluster: three nodes of the real core over an in-memory network, a tiny client that
// proposes `set counter=N`, and a "kill the leader" switch that cuts the leader off and later
// heals the network. It owns no timers and reads no clock: the caller decides when a tick, a
// proposal or a failover happens, so tests can drive it by hand and get the same run every time.
import { isRaftError, type NodeId, type SoftState, StateRole } from "@d-engine/core";
import { ascii, fromAscii, MemoryCluster } from "@d-engine/core/testing";
import type { DemoEvent } from "./events.js";

export interface DemoOptions {
  readonly seed: number;
  /** Where events go, in the order they happen. */
  readonly emit: (e: DemoEvent) => void;
  readonly nodes?: readonly NodeId[];
  /** How long a tick lasts in the caller's clock; used only to report durations. */
  readonly tickMs?: number;
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
}

interface Applied {
  readonly node: NodeId;
  readonly index: number;
  readonly term: number;
  readonly payload: string;
}

export class DemoCluster {
  readonly cluster: MemoryCluster;
  readonly ids: readonly NodeId[];
  readonly tickMs: number;
  readonly electionTick: number;
  readonly seed: number;
  /** Ticks so far: the demo's own clock. */
  ticks = 0;
  /** Application entries committed (and reported) so far. */
  committed = 0;
  /** Times a node became leader. */
  elections = 0;
  /** Times the majority elected a new leader after the old one was cut off. */
  failovers = 0;
  /** The value the client proposes next. */
  counter = 1;

  private readonly emit: (e: DemoEvent) => void;
  private readonly roles = new Map<NodeId, StateRole>();
  /** The term at which each current leader was elected, for its step-down line. */
  private readonly leaderTerm = new Map<NodeId, number>();
  /** Entries applied since the last report, in the order the nodes applied them. */
  private applied: Applied[] = [];
  /** The highest index already reported as committed; lower ones applied later are catch-ups. */
  private reportedUpTo = 0;
  private isolated: { readonly node: NodeId; readonly atTick: number } | undefined;
  /** Set while the cut-off leader has not been replaced yet. */
  private awaitingFailover: { readonly from: NodeId; readonly atTick: number } | undefined;

  constructor(opts: DemoOptions) {
    this.emit = opts.emit;
    this.seed = opts.seed;
    this.ids = opts.nodes ?? [1, 2, 3];
    this.tickMs = opts.tickMs ?? 100;
    this.electionTick = opts.electionTick ?? 10;
    this.cluster = new MemoryCluster({
      voters: this.ids,
      seed: opts.seed,
      electionTick: this.electionTick,
      heartbeatTick: opts.heartbeatTick ?? 1,
      // The demo reports applied entries as they happen and keeps none of them.
      recordApplied: false,
      events: {
        onSoftState: (id, s) => this.onSoftState(id, s),
        onApply: (id, e) => {
          this.applied.push({ node: id, index: e.index, term: e.term, payload: fromAscii(e.data) });
        },
      },
    });
    for (const id of this.ids) this.roles.set(id, StateRole.Follower);
  }

  /** Announces the setup; call once before the first tick. */
  start(): void {
    this.emit({
      kind: "start",
      nodes: this.ids,
      tickMs: this.tickMs,
      electionTick: this.electionTick,
      seed: this.seed,
    });
  }

  /** One tick of every node's logical clock, then everything it set in motion. */
  tick(): void {
    this.ticks++;
    this.cluster.tick();
    this.settle();
  }

  /**
   * The client proposes `set counter=N` to the leader it can reach. It stays on the majority side
   * of any cut, as a client of a real cluster would after failing over.
   */
  propose(): void {
    const lead = this.reachableLeader();
    const cmd = `set counter=${this.counter}`;
    if (lead === undefined) {
      this.emit({ kind: "client", text: `no leader to send "${cmd}" to yet; will retry` });
      return;
    }
    try {
      this.cluster.node(lead).raw.propose(ascii(cmd));
      this.counter++;
    } catch (e) {
      if (!isRaftError(e, "proposal-dropped")) throw e;
      this.emit({
        kind: "client",
        text: `node ${lead} refused "${cmd}" (${e.message}); will retry`,
      });
    }
    this.settle();
  }

  /**
   * Kills the leader: cuts it off from every other node (it keeps running, as a partitioned
   * process would). Returns the node cut off, or undefined if there was no leader to kill.
   */
  isolateLeader(forMs: number): NodeId | undefined {
    if (this.isolated) return undefined;
    const lead = this.reachableLeader();
    if (lead === undefined) {
      this.emit({ kind: "client", text: "no leader to kill right now; skipping this failover" });
      return undefined;
    }
    this.cluster.isolate(lead);
    this.isolated = { node: lead, atTick: this.ticks };
    this.awaitingFailover = { from: lead, atTick: this.ticks };
    this.emit({
      kind: "isolate",
      node: lead,
      term: this.leaderTerm.get(lead) ?? 0,
      forMs,
    });
    return lead;
  }

  /** Reconnects the node cut off by isolateLeader(); it rejoins as a follower and catches up. */
  heal(): void {
    if (!this.isolated) return;
    const { node } = this.isolated;
    this.isolated = undefined;
    // If nobody took over (the cut was shorter than an election), there was no failover.
    this.awaitingFailover = undefined;
    this.cluster.heal();
    this.emit({ kind: "heal", node });
    this.settle();
  }

  /** The leader with the highest term among the nodes that are not cut off. */
  reachableLeader(): NodeId | undefined {
    let best: NodeId | undefined;
    let bestTerm = -1;
    for (const n of this.cluster.nodes.values()) {
      if (n.id === this.isolated?.node || n.raw.raft.role !== StateRole.Leader) continue;
      if (n.raw.raft.term > bestTerm) {
        best = n.id;
        bestTerm = n.raw.raft.term;
      }
    }
    return best;
  }

  /** Moves Readies and messages until nothing moves, then reports what was applied. */
  private settle(): void {
    this.cluster.stabilize();
    this.reportApplied();
  }

  private onSoftState(id: NodeId, s: SoftState): void {
    const was = this.roles.get(id);
    this.roles.set(id, s.role);
    if (was === s.role) return;
    const term = this.cluster.node(id).raw.raft.term;
    if (was === StateRole.Leader) {
      this.emit({ kind: "step-down", node: id, term: this.leaderTerm.get(id) ?? term });
      this.leaderTerm.delete(id);
    }
    if (s.role === StateRole.Candidate) {
      this.emit({ kind: "campaign", node: id, term });
    } else if (s.role === StateRole.Leader) {
      this.elections++;
      this.leaderTerm.set(id, term);
      this.emit({ kind: "leader", node: id, term });
      const pending = this.awaitingFailover;
      if (pending && pending.from !== id) {
        this.failovers++;
        this.awaitingFailover = undefined;
        this.emit({
          kind: "failover",
          from: pending.from,
          to: id,
          term,
          afterMs: (this.ticks - pending.atTick) * this.tickMs,
        });
      }
    }
  }

  /**
   * One commit line per newly applied entry (with how many nodes applied it in the same breath),
   * and one catch-up line per node that applied entries the others had applied before.
   */
  private reportApplied(): void {
    const batch = this.applied;
    if (batch.length === 0) return;
    this.applied = [];
    const fresh = new Map<number, { term: number; payload: string; nodes: Set<NodeId> }>();
    const late = new Map<NodeId, { from: number; to: number; entries: number }>();
    for (const a of batch) {
      if (a.index > this.reportedUpTo) {
        const f = fresh.get(a.index) ?? { term: a.term, payload: a.payload, nodes: new Set() };
        f.nodes.add(a.node);
        fresh.set(a.index, f);
      } else {
        const l = late.get(a.node);
        if (l) {
          l.to = a.index;
          l.entries++;
        } else {
          late.set(a.node, { from: a.index, to: a.index, entries: 1 });
        }
      }
    }
    for (const [node, l] of late) this.emit({ kind: "catch-up", node, ...l });
    for (const index of [...fresh.keys()].sort((a, b) => a - b)) {
      const f = fresh.get(index) as { term: number; payload: string; nodes: Set<NodeId> };
      this.committed++;
      this.reportedUpTo = index;
      this.emit({
        kind: "commit",
        index,
        term: f.term,
        payload: f.payload,
        appliedOn: f.nodes.size,
        of: this.ids.length,
        lagging: this.ids.filter((id) => !f.nodes.has(id)),
      });
    }
  }
}
