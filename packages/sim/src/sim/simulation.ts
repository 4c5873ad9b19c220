// One seed, start to finish: build the cluster the seed describes, run the chaos phase (faults,
// operator actions, client workload) with the invariants checked after every step, then heal
// everything and require, within a bounded number of ticks, one leader, full agreement of logs
// and state machines and every acknowledged write present; finally check the clients' history
// for linearizability.
import type { ConfState, NodeId, UnsafeTestingKnobs } from "@d-engine/core";
import { type CheckResult, checkHistory } from "../linearizability/checker.js";
import { formatHistory } from "../linearizability/format.js";
import type { History, Operation } from "../linearizability/history.js";
import { Chaos } from "./chaos.js";
import { SimClient } from "./client.js";
import type { LogImage } from "./disk.js";
import { EventQueue } from "./event-queue.js";
import { InvariantChecker, type Violation } from "./invariants.js";
import { Network } from "./network.js";
import {
  BOOTSTRAP_INDEX,
  BOOTSTRAP_TERM,
  bootstrapImage,
  joiningImage,
  type Moment,
  SimNode,
} from "./node-host.js";
import { CLIENT_ADDRESS_BASE, clientAddress, copyPacket, type Packet } from "./protocol.js";
import { SimRng } from "./rng.js";
import { describePlan, planFromSeed, type SeedPlan } from "./seed-plan.js";
import { Trace, TraceKind } from "./trace.js";

/** How far catching up may stretch the heal bound (see heal()). */
export const HEAL_CATCH_UP_CAP = 10;

export interface SimOptions {
  /** Deliberate core bugs to switch on (tests of the simulator itself). */
  readonly knobs?: UnsafeTestingKnobs;
  /** Overrides of what the seed would choose. */
  readonly plan?: Partial<SeedPlan>;
  /** Receives a readable line per trace record (replaying a seed verbosely). */
  readonly verbose?: (line: string) => void;
  /** Check the client history for linearizability at the end (default true). */
  readonly linearizability?: boolean;
  /** Give up (as a violation) after this many events; default 2 million. */
  readonly maxEvents?: number;
  /** Violation kinds to ignore, to show that other checks catch the same bug. */
  readonly ignore?: readonly string[];
  /**
   * TEST ONLY: a runtime bug instead of a core bug: nodes answer reads from their own state
   * machine without ReadIndex (stale reads), which only the linearizability checker can see.
   */
  readonly unsafeLocalReads?: boolean;
}

export interface SeedResult {
  readonly seed: number;
  readonly plan: SeedPlan;
  /** Simulation events processed (deliveries, ticks, fsyncs, faults, client actions). */
  readonly steps: number;
  readonly simTimeUs: number;
  readonly traceHash: string;
  readonly violations: readonly Violation[];
  readonly history: History;
  readonly linearizability: CheckResult | undefined;
  /** Ticks the heal phase took to converge, if it did. */
  readonly healTicks: number | undefined;
  readonly stats: Readonly<Record<string, number>>;
}

export class Simulation {
  readonly queue = new EventQueue();
  readonly trace: Trace;
  readonly checker = new InvariantChecker();
  readonly network: Network<Packet>;
  readonly plan: SeedPlan;
  readonly nodes = new Map<NodeId, SimNode>();
  private readonly rng: SimRng;
  private readonly clients: SimClient[] = [];
  private readonly history: Operation[] = [];
  /** Write sequence of each operation in the history. */
  private readonly seqOf = new Map<number, number>();
  private readonly chaos: Chaos;
  private readonly removed = new Set<NodeId>();
  private readonly joined = new Set<NodeId>();
  private lastConfIndex = 0;
  private nextNodeId: number;
  private opIds = 0;
  private steps = 0;
  private healReason = "";

  constructor(
    readonly seed: number,
    private readonly options: SimOptions = {},
  ) {
    this.plan = planFromSeed(seed, options.plan);
    this.rng = new SimRng(seed);
    this.trace = new Trace(options.verbose);
    this.network = new Network<Packet>(
      this.queue,
      this.rng.fork(1),
      this.plan.net,
      (from, to, p) => this.deliver(from, to, p),
      copyPacket,
    );
    this.chaos = new Chaos(this, this.rng.fork(2));
    this.checker.ignored = new Set(options.ignore ?? []);
    const p = this.plan;
    const voters = Array.from({ length: p.voters }, (_, i) => i + 1);
    const learners = Array.from({ length: p.learners }, (_, i) => p.voters + i + 1);
    this.nextNodeId = p.voters + p.learners + 1;
    this.checker.registerBootstrap(BOOTSTRAP_INDEX, BOOTSTRAP_TERM);
    for (const id of [...voters, ...learners]) {
      this.createNode(id, bootstrapImage(voters, learners));
      this.joined.add(id);
    }
    const keys = Array.from({ length: p.keys }, (_, i) => `k${i}`);
    for (let i = 0; i < p.clients; i++) {
      this.clients.push(
        new SimClient(
          clientAddress(i + 1),
          i + 1,
          this,
          {
            keys,
            thinkMaxUs: p.thinkMaxUs,
            timeoutUs: p.electionTick * p.tickUs * 3,
            mix: p.mix,
            giveUpAfter: p.giveUpAfter,
          },
          this.rng.fork(100 + i),
        ),
      );
    }
  }

  private createNode(id: NodeId, image: LogImage): SimNode {
    const p = this.plan;
    const nodeRng = this.rng.fork(1000 + id);
    const rate = 1 + (nodeRng.float() * 2 - 1) * p.drift;
    const node = new SimNode(
      id,
      this,
      {
        electionTick: p.electionTick,
        heartbeatTick: p.heartbeatTick,
        lease: p.lease,
        preVote: p.preVote,
        commitDelayUs: p.commitDelayUs,
        applyHoldUs: p.applyHoldUs,
        maxSizePerMsg: p.maxSizePerMsg,
        maxInflightMsgs: p.maxInflightMsgs,
        knobs: this.options.knobs,
        unsafeLocalReads: this.options.unsafeLocalReads === true,
        tickUs: Math.round(p.tickUs / rate),
        fsyncMinUs: p.fsyncMinUs,
        fsyncMaxUs: Math.max(p.fsyncMinUs, p.fsyncMaxUs),
        snapshotEvery: p.snapshotEvery,
        keepEntries: p.keepEntries,
      },
      nodeRng,
      image,
    );
    this.nodes.set(id, node);
    return node;
  }

  // ---------------------------------------------------------------- environment for the parts

  send(from: number, to: number, packet: Packet): boolean {
    return this.network.send(from, to, packet);
  }

  private deliver(_from: number, to: number, p: Packet): void {
    if (p.kind === "response") {
      this.clients[to - CLIENT_ADDRESS_BASE - 1]?.onResponse(p.resp);
      return;
    }
    const node = this.nodes.get(to);
    if (!node) return;
    if (p.kind === "raft") node.receive(p.msg);
    else node.onRequest(p.req);
  }

  onConfApplied(_node: SimNode, index: number, cs: ConfState): void {
    // Applied changes are committed; only the newest tells who is still a member.
    if (index <= this.lastConfIndex) return;
    this.lastConfIndex = index;
    const members = new Set([
      ...cs.voters,
      ...cs.learners,
      ...cs.votersOutgoing,
      ...cs.learnersNext,
    ]);
    for (const id of members) this.joined.add(id);
    // A removed node keeps running (unseen by clients and faults) until the cluster converges:
    // members that have not applied its removal yet may still need its vote to elect a leader
    // that tells them (think of a leader removing itself from a two-voter cluster).
    for (const id of this.joined) if (!members.has(id)) this.removed.add(id);
  }

  onMoment(node: SimNode, moment: Moment): void {
    this.chaos.onMoment(node, moment);
  }

  members(): readonly number[] {
    return this.memberNodes().map((n) => n.id);
  }

  memberNodes(): SimNode[] {
    const out: SimNode[] = [];
    for (const [id, n] of this.nodes)
      if (!this.removed.has(id) && n.status !== "stopped") out.push(n);
    return out;
  }

  leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.nodes.values()) {
      if (!n.isLeader || n.paused) continue;
      if (!best || n.raw.raft.term > best.raw.raft.term) best = n;
    }
    return best;
  }

  spawnNode(): SimNode {
    const node = this.createNode(this.nextNodeId++, joiningImage());
    node.start();
    return node;
  }

  discard(node: SimNode): void {
    this.removed.add(node.id);
    node.stop();
  }

  record(op: Operation, seq: number): void {
    this.history.push(op);
    this.seqOf.set(op.id, seq);
  }

  nextOpId(): number {
    return ++this.opIds;
  }

  // ---------------------------------------------------------------- running

  private runUntil(done: () => boolean): void {
    const max = this.options.maxEvents ?? 2_000_000;
    while (!this.checker.failed && !done()) {
      if (this.steps >= max) {
        this.checker.fail("budget", `no verdict within ${max} events`);
        return;
      }
      this.checker.now = this.queue.now;
      if (!this.queue.runNext()) return;
      this.steps++;
    }
  }

  run(): SeedResult {
    const p = this.plan;
    this.trace.note(0, `seed ${this.seed}: ${describePlan(p)}`);
    for (const n of this.nodes.values()) n.start();
    for (const c of this.clients) c.start();
    this.chaos.start();

    this.runUntil(() => this.queue.now >= p.chaosUs);
    let healTicks: number | undefined;
    if (!this.checker.failed) healTicks = this.heal();
    let lin: CheckResult | undefined;
    if (!this.checker.failed) {
      this.checkAcknowledgedWrites();
      for (const c of this.clients) c.abandon();
      if (!this.checker.failed && this.options.linearizability !== false) {
        lin = checkHistory(this.history);
        if (lin.ok === false) {
          this.checker.fail("linearizability", `${lin.explanation}\n${formatHistory(lin.minimal)}`);
        }
      }
    }
    const stats: Record<string, number> = {
      events: this.steps,
      nodes: this.nodes.size,
      ...this.chaos.stats,
      leadersElected: this.checker.stats.leadersElected,
      readsChecked: this.checker.stats.readsChecked,
      oldTermCommits: this.checker.stats.oldTermCommits,
      contested: this.checker.stats.contested,
      observations: this.checker.stats.observations,
      opsCompleted: this.clients.reduce((s, c) => s + c.stats.completed, 0),
      opsUnknown: this.clients.reduce((s, c) => s + c.stats.unknown, 0),
      messagesSent: this.network.stats.sent,
      messagesDropped: this.network.stats.dropped + this.network.stats.cut,
      messagesDuplicated: this.network.stats.duplicated,
      lostWrites: [...this.nodes.values()].reduce((s, n) => s + n.disk.stats.lostWrites, 0),
      heldApplies: [...this.nodes.values()].reduce((s, n) => s + n.stats.heldApplies, 0),
    };
    return {
      seed: this.seed,
      plan: p,
      steps: this.steps,
      simTimeUs: this.queue.now,
      traceHash: this.trace.hash(),
      violations: this.checker.violations,
      history: this.history,
      linearizability: lin,
      healTicks,
      stats,
    };
  }

  /**
   * Ends every fault and waits (bounded) for the cluster to converge: within healTicks, or, while
   * members are still catching up, healTicks after the last progress (at most
   * HEAL_CATCH_UP_CAP x healTicks in all). Returns the ticks taken.
   */
  private heal(): number | undefined {
    const p = this.plan;
    const start = this.queue.now;
    this.trace.add(TraceKind.phase, start, [2], () => "heal: faults stop, network heals");
    this.chaos.stop();
    this.network.heal();
    this.network.faults = { ...p.net, dropRate: 0, dupRate: 0, slowRate: 0 };
    for (const n of this.nodes.values()) {
      if (n.status === "down") n.start();
      else if (n.paused) n.resume();
    }
    for (const c of this.clients) c.draining = true;
    let converged = false;
    // A member far behind catches up at the pace flow control allows (with one entry per
    // append and one append in flight, hundreds of entries take longer than the bound): the
    // deadline moves while the members' applied indexes keep growing, up to a hard cap.
    let deadline = start + p.healTicks * p.tickUs;
    const cap = start + HEAL_CATCH_UP_CAP * p.healTicks * p.tickUs;
    let progress = this.appliedSum();
    const check = () => {
      if (this.checker.failed) return;
      if (this.converged()) {
        converged = true;
        return;
      }
      const now = this.appliedSum();
      if (now > progress) {
        progress = now;
        deadline = Math.min(cap, Math.max(deadline, this.queue.now + p.healTicks * p.tickUs));
      }
      this.queue.after(p.tickUs, check);
    };
    // Off the tick grid, so checks do not always land between a tick and its Ready.
    this.queue.after(p.tickUs + 1357, check);
    this.runUntil(() => converged || this.queue.now > deadline);
    if (this.checker.failed) return undefined;
    if (!converged) {
      this.checker.fail(
        "heal",
        `the cluster did not converge within ${p.healTicks} ticks of healing: ${this.healReason}`,
      );
      return undefined;
    }
    return Math.ceil((this.queue.now - start) / p.tickUs);
  }

  /** The applied indexes of the running nodes, summed: grows while anyone catches up. */
  private appliedSum(): number {
    let sum = 0;
    for (const n of this.nodes.values()) if (n.isUp) sum += n.raw.raft.log.applied;
    return sum;
  }

  /** One leader, every member caught up with identical logs and state machines, clients idle. */
  private converged(): boolean {
    const fail = (why: string) => {
      this.healReason = why;
      return false;
    };
    const leaders = [...this.nodes.values()].filter((n) => n.isLeader);
    if (leaders.length !== 1) return fail(`${leaders.length} leaders`);
    const lead = leaders[0] as SimNode;
    const lr = lead.raw.raft;
    const cs = lead.raw.status().config;
    if (cs.votersOutgoing.length > 0) return fail("still in a joint configuration");
    const ids = [...cs.voters, ...cs.learners];
    const last = lr.log.lastIndex();
    for (const id of ids) {
      const n = this.nodes.get(id);
      if (!n?.isUp) return fail(`member ${id} is not running`);
      const r = n.raw.raft;
      if (r.term !== lr.term || (n !== lead && r.lead !== lead.id)) {
        return fail(`node ${id} is at term ${r.term} following ${r.lead}`);
      }
      if (
        r.log.lastIndex() !== last ||
        r.log.committed !== last ||
        r.log.applied !== last ||
        n.kv.applied !== last
      ) {
        return fail(
          `node ${id} has last ${r.log.lastIndex()} commit ${r.log.committed} applied ` +
            `${r.log.applied}, leader ${lead.id} has last ${last}`,
        );
      }
      if (n.awaitingFsync || n.awaitingSend) return fail(`node ${id} is busy writing`);
      if (this.checker.lastChain(id) !== this.checker.lastChain(lead.id)) {
        this.checker.fail(
          "agreement",
          `node ${id}'s log differs from leader ${lead.id}'s at ${last}`,
        );
        return false;
      }
      if (n.kv.digest() !== lead.kv.digest()) {
        this.checker.fail(
          "agreement",
          `node ${id}'s state machine differs from leader ${lead.id}'s at applied index ${last}`,
        );
        return false;
      }
    }
    if (this.clients.some((c) => c.busy)) return fail("clients are still waiting for answers");
    // Whatever is not a member now (removed, or an addition that never committed) goes away.
    for (const n of this.nodes.values()) {
      if (!ids.includes(n.id) && n.status !== "stopped") this.discard(n);
    }
    return true;
  }

  /** Every write a client saw acknowledged took effect, and every member applied it. */
  private checkAcknowledgedWrites(): void {
    const lead = this.leader();
    for (const op of this.history) {
      if (op.input.op === "get" || op.output.kind === "unknown") continue;
      const seq = this.seqOf.get(op.id) ?? 0;
      const at = this.checker.effectIndex(op.clientId, seq);
      if (at === undefined || (lead && at > lead.kv.applied)) {
        this.checker.fail(
          "acknowledged-write-lost",
          `client ${op.clientId} saw its ${op.input.op} on ${op.key} (sequence ${seq}) acknowledged, ` +
            "but it is not in the final state",
        );
        return;
      }
    }
  }
}

export function runSeed(seed: number, options: SimOptions = {}): SeedResult {
  return new Simulation(seed, options).run();
}
