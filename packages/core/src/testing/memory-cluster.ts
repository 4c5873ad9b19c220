// A deterministic in-memory cluster of RawNodes: MemoryStorage for the disk, a FIFO queue for the
// network. It follows the runtime contract exactly (persist, then send, then apply, then advance),
// so tests, the benchmark and the demo exercise the core the way a real runtime does.
// Pure: the caller decides when time passes (tick) and when messages move (deliver/stabilize).
import type { RaftConfig } from "../config.js";
import { isRaftError } from "../errors.js";
import { MemoryStorage } from "../log/storage.js";
import { RawNode, type Ready } from "../raw-node.js";
import { seededRng } from "../rng.js";
import {
  type Entry,
  EntryType,
  type Message,
  message,
  type NodeId,
  type ReadState,
  type SoftState,
} from "../types.js";

export interface ClusterNode {
  readonly id: NodeId;
  raw: RawNode;
  readonly storage: MemoryStorage;
  /** Application entries applied, in order (no-ops and conf changes excluded). */
  readonly applied: Entry[];
  readonly readStates: ReadState[];
}

export interface ClusterEvents {
  onSoftState?(id: NodeId, s: SoftState): void;
  onApply?(id: NodeId, e: Entry): void;
}

export interface MemoryClusterOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly seed: number;
  readonly electionTick?: number;
  readonly heartbeatTick?: number;
  /** Extra Raft settings applied to every node. */
  readonly config?: Partial<RaftConfig>;
  readonly events?: ClusterEvents;
  /** Keep applied entries in ClusterNode.applied (default true; the benchmark turns it off). */
  readonly recordApplied?: boolean;
}

export class MemoryCluster {
  readonly nodes = new Map<NodeId, ClusterNode>();
  /** Messages in flight, in send order. */
  queue: Message[] = [];
  /** Links that drop everything: "from->to". */
  private readonly cut = new Set<string>();
  private readonly opts: MemoryClusterOptions;

  constructor(opts: MemoryClusterOptions) {
    this.opts = opts;
    for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
      this.addNode(id, MemoryStorage.withMembers(opts.voters, opts.learners ?? []));
    }
  }

  /** Adds (or restarts) a node over `storage`. */
  addNode(id: NodeId, storage: MemoryStorage, applied = 0): ClusterNode {
    const raw = new RawNode({
      id,
      electionTick: this.opts.electionTick ?? 10,
      heartbeatTick: this.opts.heartbeatTick ?? 1,
      storage,
      applied,
      rng: seededRng(this.opts.seed * 1000 + id),
      ...this.opts.config,
    });
    const node: ClusterNode = { id, raw, storage, applied: [], readStates: [] };
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): ClusterNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  /** The node every live node agrees leads, if any. */
  leader(): NodeId | undefined {
    for (const n of this.nodes.values()) {
      if (n.raw.raft.role === "leader") return n.id;
    }
    return undefined;
  }

  tick(id?: NodeId): void {
    if (id !== undefined) this.node(id).raw.tick();
    else for (const n of this.nodes.values()) n.raw.tick();
  }

  /** Cuts (or heals) the links between two groups of nodes, both directions. */
  partition(a: readonly NodeId[], b: readonly NodeId[], cut = true): void {
    for (const x of a) {
      for (const y of b) {
        for (const k of [`${x}->${y}`, `${y}->${x}`]) {
          if (cut) this.cut.add(k);
          else this.cut.delete(k);
        }
      }
    }
  }

  isolate(id: NodeId): void {
    const others = [...this.nodes.keys()].filter((x) => x !== id);
    this.partition([id], others);
  }

  heal(): void {
    this.cut.clear();
  }

  /** Handles one node's Ready the way a runtime must. Returns false if it had none. */
  processReady(id: NodeId): boolean {
    const n = this.node(id);
    if (!n.raw.hasReady()) return false;
    const rd = n.raw.ready();
    this.handleReady(n, rd);
    n.raw.advance();
    return true;
  }

  private handleReady(n: ClusterNode, rd: Ready): void {
    if (rd.softState) this.opts.events?.onSoftState?.(n.id, rd.softState);
    // Messages allowed before the write go first (a real runtime overlaps them with the fsync).
    this.enqueue(rd.messages);
    if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState) n.storage.setHardState(rd.hardState);
    // "fsync" done: acknowledgements and votes may go now.
    this.enqueue(rd.messagesAfterPersist);
    for (const e of rd.committedEntries) {
      if (e.type === EntryType.ConfChange) {
        n.raw.applyConfChange(RawNode.decodeConfChange(e));
      } else if (e.data.length > 0) {
        if (this.opts.recordApplied !== false) n.applied.push(e);
        this.opts.events?.onApply?.(n.id, e);
      }
    }
    for (const rs of rd.readStates) n.readStates.push(rs);
  }

  private enqueue(msgs: readonly Message[]): void {
    for (const m of msgs) {
      if (!this.cut.has(`${m.from}->${m.to}`)) this.queue.push(m);
    }
  }

  /** Delivers every queued message (to nodes that exist). Returns how many were delivered. */
  deliverAll(): number {
    const batch = this.queue;
    this.queue = [];
    for (const m of batch) this.deliver(m);
    return batch.length;
  }

  deliver(m: Message): void {
    const to = this.nodes.get(m.to);
    if (!to || this.cut.has(`${m.from}->${m.to}`)) return;
    try {
      to.raw.step(m);
    } catch (e) {
      // A late response from a node that was just removed: a runtime drops it (README contract).
      if (isRaftError(e, "step-peer-not-found")) return;
      throw e;
    }
  }

  /** Processes Readies and delivers messages until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) {
        while (this.processReady(id)) moved = true;
      }
      if (this.deliverAll() > 0) moved = true;
      if (!moved) return;
    }
    throw new Error(`cluster did not stabilize within ${maxRounds} rounds`);
  }

  /** Ticks every node until some node leads, stabilizing in between. */
  electLeader(maxTicks = 1000): NodeId {
    for (let t = 0; t < maxTicks; t++) {
      const lead = this.leader();
      if (lead !== undefined) return lead;
      this.tick();
      this.stabilize();
    }
    throw new Error(`no leader after ${maxTicks} ticks`);
  }

  /** Crashes a node (losing nothing durable) and restarts it from its storage. */
  restart(id: NodeId): ClusterNode {
    const old = this.node(id);
    // Only what reached storage survives; the outstanding Ready (if any) is lost.
    const applied = old.storage.initialState().hardState.commit;
    const node = this.addNode(id, old.storage, Math.min(applied, lastApplied(old)));
    node.applied.push(...old.applied);
    return node;
  }

  /** Sends a local message to a node (used by tests for TimeoutNow-like nudges). */
  stepLocal(id: NodeId, m: Partial<Message> & Pick<Message, "type">): void {
    this.node(id).raw.raft.step(message({ to: id, ...m }));
  }
}

function lastApplied(n: ClusterNode): number {
  return n.raw.raft.log.applied;
}
