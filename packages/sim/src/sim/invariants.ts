// Raft's safety properties, checked after every step of every node. Each check is incremental:
// the checker mirrors every node's log (term and a chain hash per index, the hash covering the
// whole prefix) and keeps cluster-wide records (leader of each term, the committed prefix, the
// entry applied at each index, where each client write took effect), so one observation costs
// about as much as the log suffix that changed.
import {
  type Entry,
  EntryType,
  type Message,
  MessageType,
  NONE,
  type NodeId,
  type RawNode,
  StateRole,
} from "@d-engine/core";
import type { LogImage } from "./disk.js";
import { fnv1a, fnvNumber } from "./trace.js";

export interface Violation {
  /** A short name of the property, e.g. "election-safety". */
  readonly kind: string;
  readonly message: string;
  /** Simulated time (microseconds). */
  readonly time: number;
}

/** What the checker reads from a node after each step. */
export interface Observed {
  readonly id: NodeId;
  readonly raw: RawNode;
  /** Index of the snapshot in the node's storage (what it could compact up to). */
  readonly storageSnapIndex: number;
  /** The state machine's applied index. */
  readonly smApplied: number;
}

interface NodeObs {
  incarnation: number;
  term: number;
  vote: NodeId;
  commit: number;
  applied: number;
  smApplied: number;
  role: StateRole;
  /** The log mirror: entries at base + 1 + i; chains[0] is the chain at base. */
  base: number;
  baseTerm: number;
  ents: (Entry | undefined)[];
  terms: number[];
  chains: number[];
  /** Durable hard state and checkpoint, as of the last fsync or crash. */
  dTerm: number;
  dVote: NodeId;
  dCommit: number;
  dApplied: number;
  /** The latest vote this node revealed to others (a granted vote, or its own candidacy). */
  revealedTerm: number;
  revealedVote: NodeId;
  /** First index of each term in which this node led (its no-op). */
  leaderFirstIndex: Map<number, number>;
}

interface ChainRecord {
  readonly chain: number;
  /** The node whose log held it first. */
  readonly owner: NodeId;
  /** Sent to, or held by, another node. */
  exposed: boolean;
}

function key(index: number, term: number): number {
  return index * 2 ** 21 + term;
}

function entryHash(e: Entry, prev: number): number {
  return fnv1a(e.data, fnvNumber(e.type, fnvNumber(e.term, prev)));
}

export class InvariantChecker {
  readonly violations: Violation[] = [];
  /** Simulated time, set by the simulation before each event. */
  now = 0;
  private readonly nodes = new Map<NodeId, NodeObs>();
  /**
   * Chain hash of every (index, term) seen in any log: log matching. An entry that only ever
   * lived in one node's memory (never sent, never durable) is forgotten when that node crashes:
   * nothing can conflict with it any more.
   */
  private readonly chainOf = new Map<number, ChainRecord>();
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** The committed prefix: chain hash and term per index, up to maxCommitted. */
  private readonly committedChain = new Map<number, number>();
  private readonly committedTerm = new Map<number, number>();
  private maxCommitted = 0;
  /** Hash of the entry applied at each index (state machine safety). */
  private readonly appliedAt = new Map<number, number>();
  /** Log index where each (client, sequence) took effect. */
  private readonly effectAt = new Map<string, number>();
  /** Counters for the report. */
  readonly stats = {
    observations: 0,
    leadersElected: 0,
    readsChecked: 0,
    oldTermCommits: 0,
    contested: 0,
  };

  /** The cluster starts from a snapshot at (index, term) on every initial node: committed. */
  registerBootstrap(index: number, term: number): void {
    const chain = fnvNumber(index, fnvNumber(term, 0x62));
    this.chainOf.set(key(index, term), { chain, owner: NONE, exposed: true });
    this.committedChain.set(index, chain);
    this.committedTerm.set(index, term);
    this.maxCommitted = index;
  }

  get failed(): boolean {
    return this.violations.length > 0;
  }

  /** Kinds of violation not to report (tests that show another check catches the same bug). */
  ignored: ReadonlySet<string> = new Set();

  fail(kind: string, message: string): void {
    if (this.ignored.has(kind)) return;
    this.violations.push({ kind, message, time: this.now });
  }

  private obs(id: NodeId): NodeObs {
    let o = this.nodes.get(id);
    if (!o) {
      o = {
        incarnation: -1,
        term: 0,
        vote: NONE,
        commit: 0,
        applied: 0,
        smApplied: 0,
        role: StateRole.Follower,
        base: 0,
        baseTerm: 0,
        ents: [],
        terms: [],
        chains: [0],
        dTerm: 0,
        dVote: NONE,
        dCommit: 0,
        dApplied: 0,
        revealedTerm: 0,
        revealedVote: NONE,
        leaderFirstIndex: new Map(),
      };
      this.nodes.set(id, o);
    }
    return o;
  }

  // ---------------------------------------------------------------- lifecycle

  /**
   * A node (re)started from its disk. Its state must be what was durable when it went down, and
   * a vote it revealed must have survived (vote-within-a-term never goes backwards).
   */
  onStart(n: Observed, incarnation: number): void {
    const o = this.obs(n.id);
    const hs = n.raw.raft.hardState();
    if (o.incarnation >= 0) {
      if (hs.term < o.revealedTerm || (hs.term === o.revealedTerm && hs.vote !== o.revealedVote)) {
        this.fail(
          "vote-durability",
          `node ${n.id} revealed a vote for ${o.revealedVote} in term ${o.revealedTerm} but ` +
            `restarted with term ${hs.term} vote ${hs.vote}: the vote was not durable`,
        );
      }
      if (hs.term < o.dTerm || hs.commit < o.dCommit) {
        this.fail(
          "monotonic",
          `node ${n.id} restarted at term ${hs.term} commit ${hs.commit}, behind its durable ` +
            `term ${o.dTerm} commit ${o.dCommit}`,
        );
      }
      if (n.raw.raft.log.applied < o.dApplied || n.smApplied < o.dApplied) {
        this.fail(
          "monotonic",
          `node ${n.id} restarted with applied ${n.raw.raft.log.applied} (state machine ` +
            `${n.smApplied}), behind its durable applied ${o.dApplied}`,
        );
      }
    }
    o.incarnation = incarnation;
    o.term = hs.term;
    o.vote = hs.vote;
    o.commit = hs.commit;
    o.applied = n.raw.raft.log.applied;
    o.smApplied = n.smApplied;
    o.role = n.raw.raft.role;
    this.rebuildMirror(n, o);
  }

  private expose(index: number, term: number): void {
    const rec = this.chainOf.get(key(index, term));
    if (rec) rec.exposed = true;
  }

  /** A node crashed: entries only its lost memory held are forgotten (see chainOf). */
  onCrash(id: NodeId, durable: LogImage): void {
    const o = this.obs(id);
    const first = durable.firstIndex() - 1;
    const last = durable.lastIndex();
    for (let i = 0; i < o.ents.length; i++) {
      const e = o.ents[i];
      if (!e) continue;
      const kept = e.index < first || (e.index <= last && durable.term(e.index) === e.term);
      if (kept) continue;
      const k = key(e.index, e.term);
      const rec = this.chainOf.get(k);
      if (rec && rec.owner === id && !rec.exposed) this.chainOf.delete(k);
    }
  }

  /** After an fsync or a crash: the durable state must never go backwards. */
  onDurable(id: NodeId, image: LogImage): void {
    const o = this.obs(id);
    const hs = image.hardState;
    if (hs.term < o.dTerm) {
      this.fail("monotonic", `node ${id}: durable term went from ${o.dTerm} back to ${hs.term}`);
    } else if (hs.term === o.dTerm && o.dVote !== NONE && hs.vote !== o.dVote) {
      this.fail(
        "monotonic",
        `node ${id}: durable vote in term ${hs.term} changed from ${o.dVote} to ${hs.vote}`,
      );
    }
    const commit = Math.max(hs.commit, image.snapIndex);
    if (commit < o.dCommit) {
      this.fail("monotonic", `node ${id}: durable commit went from ${o.dCommit} back to ${commit}`);
    }
    const applied = Math.max(image.checkpoint?.applied ?? 0, image.snapIndex);
    if (applied < o.dApplied) {
      this.fail("monotonic", `node ${id}: durable applied went from ${o.dApplied} to ${applied}`);
    }
    if (applied > commit) {
      this.fail(
        "bounds",
        `node ${id}: durable applied ${applied} is past durable commit ${commit}`,
      );
    }
    o.dTerm = hs.term;
    o.dVote = hs.vote;
    o.dCommit = commit;
    o.dApplied = applied;
    this.checkPendingMembership(id, image, commit);
  }

  /**
   * At most one membership change in a durable log past its durable commit index: a node
   * restarted with two would use a configuration two changes old, whose quorums may be disjoint
   * from the current one's (see the core's persist-order.ts). Checked at every fsync and after
   * every crash, so it points at the cause long before two leaders share a term.
   */
  private checkPendingMembership(id: NodeId, image: LogImage, commit: number): void {
    let pending = 0;
    for (const e of image.ents) {
      if (e.index > commit && e.type === EntryType.ConfChange) pending++;
    }
    if (pending > 1) {
      this.fail(
        "membership",
        `node ${id}: its durable log holds ${pending} membership changes past its durable commit ${commit}`,
      );
    }
  }

  // ---------------------------------------------------------------- messages

  /** Messages a node sends: votes it reveals must be durable from then on. */
  onSend(id: NodeId, msgs: readonly Message[]): void {
    for (const m of msgs) {
      for (const e of m.entries) this.expose(e.index, e.term);
      if (m.snapshot) this.expose(m.snapshot.metadata.index, m.snapshot.metadata.term);
      let vote: NodeId = NONE;
      if (m.type === MessageType.VoteResp && !m.reject) vote = m.to;
      else if (m.type === MessageType.Vote) vote = id;
      if (vote === NONE) continue;
      const o = this.obs(id);
      if (m.term > o.revealedTerm || (m.term === o.revealedTerm && o.revealedVote === NONE)) {
        o.revealedTerm = m.term;
        o.revealedVote = vote;
      } else if (m.term === o.revealedTerm && o.revealedVote !== vote) {
        this.fail(
          "vote-durability",
          `node ${id} voted for both ${o.revealedVote} and ${vote} in term ${m.term}`,
        );
      }
    }
  }

  /**
   * Reads answered during one core call: new ReadIndex answers (local ReadStates, ReadIndexResp
   * to followers) must come from a leader that committed an entry of its own term, i.e. their
   * index must reach the leader's first entry of that term.
   */
  checkReads(n: Observed, msgsBefore: number, readsBefore: number): void {
    const r = n.raw.raft;
    const o = this.obs(n.id);
    for (let i = msgsBefore; i < r.msgs.length; i++) {
      const m = r.msgs[i] as Message;
      if (m.type !== MessageType.ReadIndexResp) continue;
      this.checkRead(n.id, o, m.term, m.index);
    }
    if (r.role === StateRole.Leader) {
      for (let i = readsBefore; i < r.readStates.length; i++) {
        const rs = r.readStates[i];
        if (rs) this.checkRead(n.id, o, r.term, rs.index);
      }
    }
  }

  private checkRead(id: NodeId, o: NodeObs, term: number, index: number): void {
    this.stats.readsChecked++;
    const first = o.leaderFirstIndex.get(term);
    if (first === undefined) {
      this.fail(
        "read-before-own-term-commit",
        `node ${id} answered a read in term ${term} without leading it`,
      );
    } else if (index < first) {
      this.fail(
        "read-before-own-term-commit",
        `node ${id}, leader of term ${term}, answered a read at index ${index} before committing ` +
          `an entry of its term (its first entry of term ${term} is at ${first})`,
      );
    }
  }

  // ---------------------------------------------------------------- applying

  /** A node applied `e` (state machine safety: every node applies the same entry at an index). */
  onApply(id: NodeId, e: Entry): void {
    const h = entryHash(e, 0);
    const prev = this.appliedAt.get(e.index);
    if (prev === undefined) this.appliedAt.set(e.index, h);
    else if (prev !== h) {
      this.fail(
        "state-machine-safety",
        `node ${id} applied a different entry at index ${e.index} (term ${e.term}) than another node`,
      );
    }
  }

  /** A client write took effect at `index` (at most once per client and sequence). */
  onEffect(id: NodeId, client: number, seq: number, index: number): void {
    const k = `${client}:${seq}`;
    const at = this.effectAt.get(k);
    if (at === undefined) this.effectAt.set(k, index);
    else if (at !== index) {
      this.fail(
        "at-most-once",
        `node ${id} applied client ${client} sequence ${seq} at index ${index}, but it already ` +
          `took effect at index ${at}`,
      );
    }
  }

  /** Where a client write took effect, if it did. */
  effectIndex(client: number, seq: number): number | undefined {
    return this.effectAt.get(`${client}:${seq}`);
  }

  // ---------------------------------------------------------------- observation

  /** Checks one node after a step. */
  observe(n: Observed): void {
    this.stats.observations++;
    const o = this.obs(n.id);
    const r = n.raw.raft;
    const log = r.log;
    const commitBefore = o.commit;

    // Monotonic within a life.
    if (r.term < o.term)
      this.fail("monotonic", `node ${n.id}: term went from ${o.term} to ${r.term}`);
    else if (r.term === o.term && o.vote !== NONE && r.vote !== o.vote) {
      this.fail(
        "monotonic",
        `node ${n.id}: vote in term ${r.term} changed from ${o.vote} to ${r.vote}`,
      );
    }
    if (log.committed < o.commit) {
      this.fail("monotonic", `node ${n.id}: commit went from ${o.commit} to ${log.committed}`);
    }
    if (log.applied < o.applied || n.smApplied < o.smApplied) {
      this.fail(
        "monotonic",
        `node ${n.id}: applied went from ${o.applied}/${o.smApplied} to ${log.applied}/${n.smApplied}`,
      );
    }

    this.syncMirror(n, o, commitBefore);

    // snapshot index <= applied <= commit <= last index.
    const last = log.lastIndex();
    if (
      !(
        n.storageSnapIndex <= n.smApplied &&
        n.smApplied <= log.committed &&
        log.committed <= last
      ) ||
      log.applied > log.committed
    ) {
      this.fail(
        "bounds",
        `node ${n.id}: snapshot ${n.storageSnapIndex}, applied ${log.applied} (state machine ` +
          `${n.smApplied}), commit ${log.committed}, last ${last} are out of order`,
      );
    }

    if (log.committed > commitBefore) {
      this.onCommit(n.id, o, log.committed);
      // Diagnostics for the Figure 8 hunt: a leader committing an entry of an older term (only
      // the unsafe testing knob allows it), and whether another log holds a newer entry there.
      if (r.role === StateRole.Leader && this.termAt(o, log.committed) < r.term) {
        this.stats.oldTermCommits++;
        for (const [id, other] of this.nodes) {
          if (id === n.id) continue;
          const i = log.committed;
          if (
            i > other.base &&
            i <= other.base + other.ents.length &&
            this.termAt(other, i) > this.termAt(o, i)
          ) {
            this.stats.contested++;
            break;
          }
        }
      }
    }

    // Election safety and leader completeness.
    if (r.role === StateRole.Leader) {
      const other = this.leaderOfTerm.get(r.term);
      if (other === undefined) this.leaderOfTerm.set(r.term, n.id);
      else if (other !== n.id) {
        this.fail("election-safety", `nodes ${other} and ${n.id} both led term ${r.term}`);
      }
      if (o.role !== StateRole.Leader || o.term !== r.term) this.onElected(n, o);
    }

    o.term = r.term;
    o.vote = r.vote;
    o.commit = log.committed;
    o.applied = log.applied;
    o.smApplied = n.smApplied;
    o.role = r.role;
  }

  private onElected(n: Observed, o: NodeObs): void {
    this.stats.leadersElected++;
    const r = n.raw.raft;
    const last = r.log.lastIndex();
    let first = last;
    while (first - 1 > o.base && o.terms[first - 1 - o.base - 1] === r.term) first--;
    o.leaderFirstIndex.set(r.term, first);
    // Every entry committed in an earlier term must be in the new leader's log.
    let c = this.maxCommitted;
    while (c > 0) {
      const t = this.committedTerm.get(c);
      if (t !== undefined && t < r.term) break;
      c--;
    }
    if (c === 0) return;
    if (c > last) {
      this.fail(
        "leader-completeness",
        `node ${n.id} became leader of term ${r.term} with last index ${last}, missing committed entry ${c}`,
      );
      return;
    }
    const at = Math.max(c, o.base);
    const want = this.committedChain.get(at);
    if (want !== undefined && this.chainAt(o, at) !== want) {
      this.fail(
        "leader-completeness",
        `node ${n.id} became leader of term ${r.term} but its log differs from the committed ` +
          `log at index ${at} (committed through ${c} in earlier terms)`,
      );
    }
  }

  /** The node's commit index advanced: its committed prefix must match everyone else's. */
  private onCommit(id: NodeId, o: NodeObs, commit: number): void {
    const lo = Math.max(o.base, 1);
    const check = (i: number) => {
      const want = this.committedChain.get(i);
      if (want !== undefined && want !== this.chainAt(o, i)) {
        this.fail(
          "committed-entries-never-change",
          `node ${id} committed through ${commit}, but its entry at ${i} differs from the one committed before`,
        );
        return false;
      }
      return true;
    };
    if (commit <= this.maxCommitted) {
      if (commit >= lo) check(commit);
      return;
    }
    if (this.maxCommitted >= lo && !check(this.maxCommitted)) return;
    for (let i = Math.max(this.maxCommitted + 1, o.base); i <= commit; i++) {
      if (i === 0) continue;
      this.committedChain.set(i, this.chainAt(o, i));
      this.committedTerm.set(i, this.termAt(o, i));
    }
    this.maxCommitted = commit;
  }

  private chainAt(o: NodeObs, i: number): number {
    return o.chains[i - o.base] as number;
  }

  private termAt(o: NodeObs, i: number): number {
    return i === o.base ? o.baseTerm : (o.terms[i - o.base - 1] as number);
  }

  /** Rebuilds the mirror from the node's whole log (after a restart). */
  private rebuildMirror(n: Observed, o: NodeObs): void {
    const log = n.raw.raft.log;
    this.resetMirror(n.id, o, log.firstIndex() - 1, log.term(log.firstIndex() - 1));
    const ents = log.entries(log.firstIndex(), Number.POSITIVE_INFINITY);
    for (const e of ents) this.pushEntry(n, o, e, -1);
  }

  private resetMirror(id: NodeId, o: NodeObs, base: number, baseTerm: number): void {
    o.base = base;
    o.ents = [];
    o.terms = [];
    let chain = 0;
    if (base > 0) {
      const known = this.chainOf.get(key(base, baseTerm));
      if (known === undefined) {
        this.fail(
          "log-matching",
          `node ${id} holds a snapshot at ${base} (term ${baseTerm}) of an entry no log ever had`,
        );
      } else chain = known.chain;
    }
    o.chains = [chain];
    o.baseTerm = baseTerm;
  }

  private pushEntry(n: Observed, o: NodeObs, e: Entry, commitBefore: number): void {
    const chain = entryHash(e, o.chains[o.chains.length - 1] as number);
    o.ents.push(e);
    o.terms.push(e.term);
    o.chains.push(chain);
    const k = key(e.index, e.term);
    const known = this.chainOf.get(k);
    if (known === undefined) this.chainOf.set(k, { chain, owner: n.id, exposed: false });
    else if (known.owner !== n.id) known.exposed = true;
    if (known !== undefined && known.chain !== chain) {
      this.fail(
        "log-matching",
        `node ${n.id} has an entry at ${e.index} in term ${e.term} whose log differs from another ` +
          "node's entry with the same index and term",
      );
    }
    if (e.type === EntryType.ConfChange && commitBefore >= 0) this.checkConfChange(n, o, e);
  }

  /** A leader appended a membership change: no other change may be pending (unapplied) on it. */
  private checkConfChange(n: Observed, o: NodeObs, e: Entry): void {
    const r = n.raw.raft;
    if (r.role !== StateRole.Leader || e.term !== r.term) return;
    for (let i = Math.max(r.log.applied + 1, o.base + 1); i < e.index; i++) {
      const other = o.ents[i - o.base - 1];
      if (other?.type === EntryType.ConfChange) {
        this.fail(
          "one-pending-conf-change",
          `leader ${n.id} appended a membership change at ${e.index} while the one at ${i} was ` +
            `not applied (applied ${r.log.applied})`,
        );
        return;
      }
    }
  }

  /** Brings the mirror up to date with the node's log after a step. */
  private syncMirror(n: Observed, o: NodeObs, commitBefore: number): void {
    const log = n.raw.raft.log;
    const snapIndex = log.firstIndex() - 1;
    if (snapIndex !== o.base) {
      const mirrorLast = o.base + o.ents.length;
      const snapTerm = log.term(snapIndex);
      if (snapIndex > o.base && snapIndex <= mirrorLast && this.termAt(o, snapIndex) === snapTerm) {
        // Compaction: drop the mirror's prefix.
        const cut = snapIndex - o.base;
        o.ents = o.ents.slice(cut);
        o.terms = o.terms.slice(cut);
        o.chains = o.chains.slice(cut);
        o.baseTerm = snapTerm;
        o.base = snapIndex;
      } else {
        // A snapshot replaced the log.
        this.resetMirror(n.id, o, snapIndex, snapTerm);
        if (snapIndex > this.maxCommitted || this.committedChain.has(snapIndex)) {
          // The snapshot must hold the committed entry at its index.
          const want = this.committedChain.get(snapIndex);
          if (want !== undefined && want !== o.chains[0]) {
            this.fail(
              "committed-entries-never-change",
              `node ${n.id} installed a snapshot at ${snapIndex} that differs from the committed log`,
            );
          }
        }
      }
    }
    const last = log.lastIndex();
    const mirrorLast = o.base + o.ents.length;
    const from = Math.max(o.base + 1, Math.min(log.unstable.offset, mirrorLast + 1));
    if (from > last && last >= mirrorLast) return;
    const ents = from <= last ? log.slice(from, last + 1, Number.POSITIVE_INFINITY) : [];
    let i = from;
    let k = 0;
    // Skip what the mirror already has, unchanged.
    while (k < ents.length && i <= mirrorLast && o.ents[i - o.base - 1] === ents[k]) {
      i++;
      k++;
    }
    if (i <= mirrorLast) {
      // The log changed from index i on: entries were replaced or truncated.
      if (i <= commitBefore) {
        this.fail(
          "committed-entries-never-change",
          `node ${n.id} replaced its entry at ${i}, at or below its commit index ${commitBefore}`,
        );
      }
      const keep = i - o.base - 1;
      o.ents.length = keep;
      o.terms.length = keep;
      o.chains.length = keep + 1;
    }
    for (; k < ents.length; k++) this.pushEntry(n, o, ents[k] as Entry, commitBefore);
  }

  // ---------------------------------------------------------------- final checks

  /** The chain hash of a node's log at its last index (for the agreement check). */
  lastChain(id: NodeId): number | undefined {
    const o = this.nodes.get(id);
    return o ? o.chains[o.chains.length - 1] : undefined;
  }
}
