// Small builders for unit tests of the Raft core: a node over MemoryStorage with a given log, a
// runtime loop that processes one Ready exactly as the contract says, "perfect peers" that answer
// a node's messages, and clusters whose nodes start from chosen logs. Pure, like the core.
import type { RaftConfig } from "../config.js";
import { MemoryStorage } from "../log/storage.js";
import { type ProgressStatus, RawNode, type Ready } from "../raw-node.js";
import { seededRng } from "../rng.js";
import {
  EMPTY_BYTES,
  type Entry,
  EntryType,
  type HardState,
  type Message,
  MessageType,
  message,
  type NodeId,
  StateRole,
} from "../types.js";
import { ascii } from "./bytes.js";
import { MemoryCluster, type MemoryClusterOptions } from "./memory-cluster.js";

/** Entries with the given terms at indexes from, from + 1, ... (empty payloads). */
export function entriesWithTerms(terms: readonly number[], from = 1): Entry[] {
  return terms.map((term, i) => ({
    term,
    index: from + i,
    type: EntryType.Normal,
    data: EMPTY_BYTES,
  }));
}

export interface StorageSpec {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  /** Terms of the entries already in the log, from index 1. */
  readonly terms?: readonly number[];
  readonly hardState?: HardState;
}

/** A MemoryStorage holding a bootstrap membership, a log and a hard state. */
export function newStorage(spec: StorageSpec): MemoryStorage {
  const s = MemoryStorage.withMembers(spec.voters, spec.learners ?? []);
  s.append(entriesWithTerms(spec.terms ?? []));
  if (spec.hardState) s.setHardState(spec.hardState);
  return s;
}

export interface NodeSpec extends Partial<Omit<RaftConfig, "id" | "storage" | "rng">> {
  readonly voters?: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly terms?: readonly number[];
  readonly hardState?: HardState;
  readonly storage?: MemoryStorage;
  readonly seed?: number;
}

export interface TestNode {
  readonly raw: RawNode;
  readonly storage: MemoryStorage;
}

/**
 * A RawNode with electionTick 10 and heartbeatTick 1 (as in the Raft paper tests) over a fresh
 * MemoryStorage. Pre-vote and check-quorum default to off so plain paper rules can be tested;
 * tests of those features turn them on.
 */
export function newNode(id: NodeId, spec: NodeSpec = {}): TestNode {
  const { voters, learners, terms, hardState, storage: given, seed, ...config } = spec;
  const storage =
    given ??
    newStorage({
      voters: voters ?? [1, 2, 3],
      ...(learners ? { learners } : {}),
      ...(terms ? { terms } : {}),
      ...(hardState ? { hardState } : {}),
    });
  const raw = new RawNode({
    id,
    electionTick: 10,
    heartbeatTick: 1,
    preVote: false,
    checkQuorum: false,
    ...config,
    storage,
    rng: seededRng(seed ?? id),
  });
  return { raw, storage };
}

/** Everything a Ready asks to send, before-persist messages first. */
export function sentBy(rd: Ready): Message[] {
  return [...rd.messages, ...rd.messagesAfterPersist];
}

/**
 * Processes one Ready the way a runtime must (persist, then send, then apply, then advance) and
 * returns it. Committed conf changes are applied. Returns undefined if nothing was ready.
 */
export function drain(n: TestNode): Ready | undefined {
  if (!n.raw.hasReady()) return undefined;
  const rd = n.raw.ready();
  if (rd.snapshot) n.storage.applySnapshot(rd.snapshot);
  n.storage.append(rd.entries);
  if (rd.hardState) n.storage.setHardState(rd.hardState);
  for (const e of rd.committedEntries) {
    if (e.type === EntryType.ConfChange) n.raw.applyConfChange(RawNode.decodeConfChange(e));
  }
  n.raw.advance();
  return rd;
}

/** Drains every Ready until none is left; returns all the messages they asked to send. */
export function drainAll(n: TestNode): Message[] {
  const out: Message[] = [];
  for (let rd = drain(n); rd; rd = drain(n)) out.push(...sentBy(rd));
  return out;
}

/** The answer a healthy, fully caught-up peer would give to `m` (appends and votes granted). */
export function perfectReply(m: Message): Message | undefined {
  switch (m.type) {
    case MessageType.App:
      return message({
        type: MessageType.AppResp,
        from: m.to,
        to: m.from,
        term: m.term,
        index: m.index + m.entries.length,
      });
    case MessageType.Heartbeat:
      return message({
        type: MessageType.HeartbeatResp,
        from: m.to,
        to: m.from,
        term: m.term,
        index: m.index,
        context: m.context,
      });
    case MessageType.Vote:
    case MessageType.PreVote:
      return message({
        type: m.type === MessageType.Vote ? MessageType.VoteResp : MessageType.PreVoteResp,
        from: m.to,
        to: m.from,
        term: m.term,
      });
    default:
      return undefined;
  }
}

/** Steps the perfect replies of the peers in `from` (all peers if omitted) to `msgs`. */
export function replyFrom(n: TestNode, msgs: readonly Message[], from?: readonly NodeId[]): void {
  for (const m of msgs) {
    if (from && !from.includes(m.to)) continue;
    const r = perfectReply(m);
    if (r) n.raw.step(r);
  }
}

/** Makes `n` leader: it campaigns and every voter grants; its no-op is not yet replicated. */
export function electSelf(n: TestNode): void {
  n.raw.campaign();
  for (let i = 0; i < 10 && n.raw.raft.role !== StateRole.Leader; i++) {
    const rd = drain(n);
    if (!rd) break;
    replyFrom(n, sentBy(rd));
  }
  if (n.raw.raft.role !== StateRole.Leader) throw new Error(`node ${n.raw.id} did not win`);
}

/**
 * A leader whose no-op is committed and applied on every peer: followers are in Replicate state
 * with match = the no-op's index, and nothing is left to send.
 */
export function newLeader(id: NodeId, spec: NodeSpec = {}): TestNode {
  const n = newNode(id, spec);
  electSelf(n);
  // Each round answers every append until the peers have acknowledged everything.
  for (let i = 0; i < 10; i++) {
    const msgs = drainAll(n);
    if (msgs.length === 0) break;
    replyFrom(n, msgs);
  }
  return n;
}

export function ofType(msgs: readonly Message[], type: MessageType, to?: NodeId): Message[] {
  return msgs.filter((m) => m.type === type && (to === undefined || m.to === to));
}

/** A payload of exactly `size` bytes (for byte-limit tests). */
export function payload(size: number, fill = "x"): Uint8Array {
  return ascii(fill.repeat(size));
}

/**
 * A MemoryCluster whose nodes start from the given logs (terms from index 1) and hard states.
 * Nodes not named in `terms` start empty.
 */
export function clusterWithLogs(
  opts: MemoryClusterOptions & {
    readonly terms?: Readonly<Record<number, readonly number[]>>;
    readonly hardState?: HardState;
  },
): MemoryCluster {
  const c = new MemoryCluster(opts);
  for (const id of [...opts.voters, ...(opts.learners ?? [])]) {
    c.addNode(
      id,
      newStorage({
        voters: opts.voters,
        ...(opts.learners ? { learners: opts.learners } : {}),
        terms: opts.terms?.[id] ?? [],
        ...(opts.hardState ? { hardState: opts.hardState } : {}),
      }),
    );
  }
  return c;
}

/** Makes `id` campaign and settles the cluster; throws unless `id` won. */
export function electNode(c: MemoryCluster, id: NodeId): void {
  c.node(id).raw.campaign();
  c.stabilize();
  if (c.leader() !== id) throw new Error(`node ${id} did not become leader (${c.leader()} did)`);
}

/** Records every message the cluster delivers (in delivery order), for counting and ordering. */
export function recordDeliveries(c: MemoryCluster): Message[] {
  const seen: Message[] = [];
  const deliver = c.deliver.bind(c);
  c.deliver = (m: Message) => {
    seen.push(m);
    deliver(m);
  };
  return seen;
}

/** Ticks every node `n` times, settling the cluster after each tick. */
export function tickAndSettle(c: MemoryCluster, n: number): void {
  for (let i = 0; i < n; i++) {
    c.tick();
    c.stabilize();
  }
}

/** The terms of a node's whole log, index 1 onwards (assumes nothing is compacted). */
export function logTerms(raw: RawNode): number[] {
  return raw.raft.log.allEntries().map((e) => e.term);
}

/**
 * Moves the cluster one Ready or one delivery round at a time until `done()` holds, so a test can
 * stop in an intermediate state (say, inside a joint configuration). Throws if it never does.
 */
export function settleUntil(c: MemoryCluster, done: () => boolean, maxRounds = 1000): void {
  for (let round = 0; round < maxRounds; round++) {
    if (done()) return;
    let moved = false;
    for (const id of c.nodes.keys()) {
      if (c.processReady(id)) moved = true;
      if (done()) return;
    }
    if (c.deliverAll() > 0) moved = true;
    if (!moved) break;
  }
  if (!done()) throw new Error("the cluster settled without reaching the expected state");
}

/** Like drain(), for when the test knows a Ready is waiting: throws if none is. */
export function takeReady(n: TestNode): Ready {
  const rd = drain(n);
  if (!rd) throw new Error(`node ${n.raw.id} has no Ready`);
  return rd;
}

/** The leader's replication progress for `id` (throws if `n` is not a leader or `id` unknown). */
export function progressOf(n: TestNode, id: NodeId): ProgressStatus {
  const pr = n.raw.status().progress?.get(id);
  if (!pr) throw new Error(`node ${n.raw.id} tracks no progress for ${id}`);
  return pr;
}
