// The chaos phase: faults (crashes, pauses, partitions, loss storms) and operator actions
// (membership changes, leadership transfers, snapshots) at random times drawn from the seed.
import { type ConfChange, ConfChangeTransition, ConfChangeType, confChange } from "@d-engine/core";
import type { EventQueue } from "./event-queue.js";
import type { Network } from "./network.js";
import type { Moment, SimNode } from "./node-host.js";
import type { Packet } from "./protocol.js";
import type { SimRng } from "./rng.js";
import type { SeedPlan } from "./seed-plan.js";
import { type Trace, TraceKind } from "./trace.js";

export interface ChaosTarget {
  readonly queue: EventQueue;
  readonly trace: Trace;
  readonly network: Network<Packet>;
  readonly plan: SeedPlan;
  /** Nodes that were not removed from the cluster (up or down). */
  memberNodes(): SimNode[];
  leader(): SimNode | undefined;
  /** Creates and starts a node with an empty disk, to be added to the cluster. */
  spawnNode(): SimNode;
  /** The node will never be a member (its addition was refused). */
  discard(node: SimNode): void;
}

const MS = 1000;

export class Chaos {
  private active = false;
  /** Partitions in force (they may overlap). */
  private partitions = 0;
  readonly stats = {
    crashes: 0,
    targetedCrashes: 0,
    momentFaults: 0,
    pauses: 0,
    partitions: 0,
    storms: 0,
    confChanges: 0,
    transfers: 0,
    snapshots: 0,
  };

  constructor(
    private readonly t: ChaosTarget,
    private readonly rng: SimRng,
  ) {}

  start(): void {
    this.active = true;
    const f = this.t.plan.faults;
    this.every(f.crashUs, () => this.crash());
    this.every(f.pauseUs, () => this.pause());
    this.every(f.partitionUs, () => this.partition());
    this.every(f.stormUs, () => this.storm());
    this.every(f.membershipUs, () => this.membership());
    this.every(f.transferUs, () => this.transfer());
    this.every(f.snapshotUs, () => this.snapshot());
  }

  /** No more faults or operator actions; partitions and storms still end as planned. */
  stop(): void {
    this.active = false;
  }

  private every(meanUs: number, fn: () => void): void {
    if (meanUs <= 0) return;
    const gap = () => this.rng.range(Math.floor(meanUs / 2), Math.floor((meanUs * 3) / 2));
    const go = () => {
      if (!this.active) return;
      fn();
      this.t.queue.after(gap(), go);
    };
    this.t.queue.after(gap(), go);
  }

  private fault(what: string, details: readonly number[]): void {
    this.t.trace.add(TraceKind.fault, this.t.queue.now, details, () => what);
  }

  /** A critical moment on `node`: maybe strike it within a few milliseconds. */
  onMoment(node: SimNode, moment: Moment): void {
    if (!this.active || !this.rng.chance(this.t.plan.faults.momentFaultChance)) return;
    const inc = node.incarnation;
    // A voter is only interesting if it loses its memory; a leader also if it goes silent.
    const crash = moment === "voted" || this.rng.chance(0.15);
    this.t.queue.after(this.rng.range(0, 1500), () => {
      if (!this.active || node.incarnation !== inc || !node.isUp) return;
      if (crash) {
        if (this.downCount() < this.maxDown()) {
          this.stats.momentFaults++;
          this.crashNode(node, `after ${moment}`);
        }
        return;
      }
      if (this.partitions >= 3) return;
      const ids = this.t.memberNodes().map((n) => n.id);
      const us = this.rng.range(100, 600) * MS;
      this.stats.momentFaults++;
      this.beginPartition(
        this.t.network.isolate(node.id, ids),
        `isolate node ${node.id} after ${moment}`,
        us,
      );
    });
  }

  private downCount(): number {
    return this.t.memberNodes().filter((n) => n.status === "down").length;
  }

  private maxDown(): number {
    return Math.max(1, Math.floor(this.t.plan.voters / 2));
  }

  private crashNode(node: SimNode, why: string): void {
    this.stats.crashes++;
    const downUs = this.rng.range(1, 400) * MS;
    this.fault(`crash node ${node.id} for ${downUs}us (${why})`, [1, node.id, downUs]);
    node.crash();
    this.t.queue.after(downUs, () => {
      if (node.status === "down") node.start();
    });
  }

  private beginPartition(id: number, what: string, us: number): void {
    const net = this.t.network;
    this.partitions++;
    this.stats.partitions++;
    this.fault(`${what} for ${us}us`, [3, net.cutLinks, us]);
    this.t.queue.after(us, () => {
      this.partitions--;
      net.restore(id);
      this.fault(`${what}: over`, [4, id]);
    });
  }

  private crash(): void {
    if (this.downCount() >= this.maxDown()) return;
    const up = this.t.memberNodes().filter((n) => n.isUp);
    if (up.length === 0) return;
    // Aim some crashes at the window between persisting and sending (a Ready in flight).
    const inFlight = up.filter((n) => n.awaitingFsync || n.awaitingSend);
    const targeted = inFlight.length > 0 && this.rng.chance(this.t.plan.faults.targetedCrashShare);
    const node = this.rng.pick(targeted ? inFlight : up);
    if (targeted) this.stats.targetedCrashes++;
    this.crashNode(node, targeted ? "mid-Ready" : "random");
  }

  private pause(): void {
    const up = this.t.memberNodes().filter((n) => n.isUp && !n.paused);
    if (up.length === 0) return;
    const lead = this.t.leader();
    const node = lead && this.rng.chance(0.4) ? lead : this.rng.pick(up);
    const us = this.rng.range(5, 400) * MS;
    this.stats.pauses++;
    this.fault(`pause node ${node.id}`, [2, node.id, us]);
    node.pause(us);
  }

  private partition(): void {
    if (this.partitions > 0) return;
    const ids = this.t.memberNodes().map((n) => n.id);
    if (ids.length < 2) return;
    const net = this.t.network;
    const lead = this.t.leader();
    const kind = this.rng.weighted([
      ["isolate-leader", lead ? 35 : 0],
      ["split", 30],
      ["one-way", 20],
      ["isolate", 15],
    ] as const);
    let what: string;
    let id: number;
    switch (kind) {
      case "isolate-leader": {
        const l = lead as SimNode;
        id = net.isolate(l.id, ids);
        what = `isolate leader ${l.id}`;
        break;
      }
      case "split": {
        const shuffled = [...ids];
        for (let i = shuffled.length - 1; i > 0; i--) {
          const j = this.rng.nextInt(i + 1);
          [shuffled[i], shuffled[j]] = [shuffled[j] as number, shuffled[i] as number];
        }
        const cut = this.rng.range(1, shuffled.length - 1);
        const a = shuffled.slice(0, cut);
        const b = shuffled.slice(cut);
        id = net.partition(a, b);
        what = `partition [${a.join(",")}] | [${b.join(",")}]`;
        break;
      }
      case "one-way": {
        const from = lead && this.rng.chance(0.5) ? lead.id : this.rng.pick(ids);
        const others = ids.filter((x) => x !== from);
        const targets = this.rng.chance(0.5) ? others : [this.rng.pick(others)];
        const inbound = this.rng.chance(0.5);
        id = net.cut(targets.map((x): [number, number] => (inbound ? [x, from] : [from, x])));
        what = `one-way cut ${inbound ? `[${targets.join(",")}] -> ${from}` : `${from} -> [${targets.join(",")}]`}`;
        break;
      }
      default: {
        const x = this.rng.pick(ids);
        id = net.isolate(x, ids);
        what = `isolate node ${x}`;
      }
    }
    this.beginPartition(id, what, this.rng.range(50, 1000) * MS);
  }

  private storm(): void {
    const net = this.t.network;
    const base = net.faults;
    if (base.dropRate >= 0.3) return;
    const drop = this.rng.pick([0.3, 0.5, 0.8]);
    const us = this.rng.range(50, 300) * MS;
    this.stats.storms++;
    net.faults = { ...base, dropRate: drop };
    this.fault(`loss storm (drop ${drop}) for ${us}us`, [5, Math.round(drop * 100), us]);
    this.t.queue.after(us, () => {
      // The heal phase may have quieted the network meanwhile: only undo our own change.
      if (net.faults.dropRate === drop) net.faults = base;
    });
  }

  private membership(): void {
    const lead = this.t.leader();
    if (!lead) return;
    const cs = lead.raw.status().config;
    if (cs.votersOutgoing.length > 0) return;
    const voters = cs.voters;
    const learners = cs.learners;
    const size = voters.length + learners.length;
    const minVoters = this.t.plan.voters === 1 ? 1 : 3;
    const kind = this.rng.weighted([
      ["add-learner", size < 7 ? 3 : 0],
      ["add-voter", size < 7 && voters.length < 5 ? 1 : 0],
      ["promote", learners.length > 0 && voters.length < 5 ? 3 : 0],
      ["remove-learner", learners.length > 0 ? 1 : 0],
      ["remove-voter", voters.length > minVoters ? 2 : 0],
      ["replace-leader", learners.length > 0 && voters.length > 1 ? 2 : 0],
      ["none", 0.01],
    ] as const);
    let cc: ConfChange;
    let spawned: SimNode | undefined;
    switch (kind) {
      case "add-learner":
      case "add-voter":
        spawned = this.t.spawnNode();
        cc =
          kind === "add-learner"
            ? confChange.addLearner(spawned.id)
            : confChange.addNode(spawned.id);
        break;
      case "promote":
        cc = confChange.addNode(this.rng.pick(learners));
        break;
      case "remove-learner":
        cc = confChange.removeNode(this.rng.pick(learners));
        break;
      case "remove-voter":
        cc = confChange.removeNode(this.rng.pick(voters));
        break;
      case "replace-leader":
        // Joint consensus: the learner becomes a voter and the leader leaves, in one change.
        cc = {
          transition: ConfChangeTransition.Auto,
          changes: [
            { type: ConfChangeType.AddNode, nodeId: this.rng.pick(learners) },
            { type: ConfChangeType.RemoveNode, nodeId: lead.id },
          ],
          context: new Uint8Array(0),
        };
        break;
      default:
        return;
    }
    const what = `${kind} ${cc.changes.map((c) => `${ConfChangeType[c.type]}(${c.nodeId})`).join(" ")}`;
    const ok = lead.admin(what, (raw) => raw.proposeConfChange(cc));
    this.t.trace.add(
      TraceKind.conf,
      this.t.queue.now,
      [ok ? 1 : 0, ...cc.changes.map((c) => c.nodeId)],
      () => `propose ${what} at leader ${lead.id}: ${ok ? "appended" : "refused"}`,
    );
    if (ok) this.stats.confChanges++;
    else if (spawned) this.t.discard(spawned);
  }

  private transfer(): void {
    const lead = this.t.leader();
    if (!lead) return;
    const voters = lead.raw.status().config.voters.filter((v) => v !== lead.id);
    if (voters.length === 0) return;
    const to = this.rng.pick(voters);
    if (lead.admin(`transfer leadership to ${to}`, (raw) => raw.transferLeader(to))) {
      this.stats.transfers++;
    }
  }

  private snapshot(): void {
    const up = this.t.memberNodes().filter((n) => n.isUp);
    if (up.length === 0) return;
    this.stats.snapshots++;
    this.rng.pick(up).snapshotNow();
  }
}
