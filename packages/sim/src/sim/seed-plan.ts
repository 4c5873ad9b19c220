// Everything a seed decides before the run starts: the cluster's shape, the Raft settings, how
// hostile the network, disks and clocks are, how often operators meddle, and the workload.
import type { NetworkFaults } from "./network.js";
import { SimRng } from "./rng.js";

export interface FaultRates {
  /** Mean time between events of each kind (microseconds); 0 turns the kind off. */
  readonly crashUs: number;
  readonly pauseUs: number;
  readonly partitionUs: number;
  /** Bursts of heavy message loss. */
  readonly stormUs: number;
  readonly membershipUs: number;
  readonly transferUs: number;
  readonly snapshotUs: number;
  /** Share of crashes aimed at a node between persisting and sending (0..1). */
  readonly targetedCrashShare: number;
  /**
   * Chance that a critical moment (a node just elected leader, a new leader's first commit)
   * is followed within a few milliseconds by a crash or isolation of that node. Such moments
   * are brief, so faults at random times would almost never hit them.
   */
  readonly momentFaultChance: number;
}

export interface SeedPlan {
  readonly seed: number;
  readonly voters: number;
  readonly learners: number;
  readonly electionTick: number;
  readonly heartbeatTick: number;
  /** Nominal tick period (microseconds). */
  readonly tickUs: number;
  /** Largest relative deviation of a node's tick rate from nominal. */
  readonly drift: number;
  /** Lease reads (ReadOnlyOption.LeaseBased) instead of ReadIndex. */
  readonly lease: boolean;
  readonly preVote: boolean;
  /**
   * 0: the leader sends a commit advance to followers at once. Otherwise deferCommitBroadcast,
   * and the host sends a waiting commit-only broadcast this long after (the engine's
   * raft.commitBroadcastDelayMs).
   */
  readonly commitDelayUs: number;
  /**
   * 0: every node applies committed entries at once. Otherwise a follower may hold plain
   * commands back this long and apply several together (the engine's raft.followerApplyDelayMs).
   */
  readonly applyHoldUs: number;
  readonly maxSizePerMsg: number;
  readonly maxInflightMsgs: number;
  readonly net: NetworkFaults;
  readonly fsyncMinUs: number;
  readonly fsyncMaxUs: number;
  readonly snapshotEvery: number;
  readonly keepEntries: number;
  readonly faults: FaultRates;
  readonly clients: number;
  readonly keys: number;
  readonly thinkMaxUs: number;
  /** Weights of get, put, cas, delete. */
  readonly mix: readonly [number, number, number, number];
  /** Attempts after which a client gives up on an operation during chaos. */
  readonly giveUpAfter: number;
  /** Length of the chaos phase (microseconds). */
  readonly chaosUs: number;
  /** Bound on the heal phase, in ticks: by then one leader and full agreement. */
  readonly healTicks: number;
}

const MS = 1000;

export function planFromSeed(seed: number, overrides: Partial<SeedPlan> = {}): SeedPlan {
  const rng = new SimRng(seed).fork(0x91a7);
  const voters = rng.weighted([
    [1, 1],
    [3, 5],
    [5, 4],
  ]);
  const learners = rng.chance(0.35) ? rng.range(1, 2) : 0;
  const lease = rng.chance(0.3);
  // A lease is safe while tick rates differ by less than its safety margin (README, Reads);
  // keep lease seeds within it and let the others drift freely.
  const drift = lease ? rng.pick([0, 0.02, 0.04]) : rng.pick([0, 0.05, 0.2]);
  const level = rng.weighted([
    ["calm", 1],
    ["rough", 3],
    ["wild", 2],
  ]);
  const scale = level === "calm" ? 4 : level === "rough" ? 1.5 : 0.6;
  const mean = (us: number, off = 0.1) => (rng.chance(off) ? 0 : Math.round(us * scale));
  const plan: Omit<SeedPlan, "commitDelayUs" | "applyHoldUs"> = {
    seed,
    voters,
    learners,
    electionTick: 10,
    heartbeatTick: rng.pick([1, 1, 2, 3]),
    tickUs: 10 * MS,
    drift,
    lease,
    preVote: rng.chance(0.85),
    // One entry per append (large entries) splits replication into many small steps.
    maxSizePerMsg: rng.pick([1, 1, 256, 1 << 20]),
    maxInflightMsgs: rng.pick([1, 4, 256]),
    net: {
      minDelayUs: rng.range(100, 1000),
      maxDelayUs: rng.range(2, 15) * MS,
      dropRate: rng.pick([0, 0.01, 0.05, 0.15]),
      dupRate: rng.pick([0, 0.01, 0.05]),
      slowRate: rng.pick([0, 0.01, 0.03]),
      slowMaxUs: rng.range(20, 200) * MS,
    },
    fsyncMinUs: rng.range(100, 1000),
    fsyncMaxUs: rng.range(1, 8) * MS,
    snapshotEvery: rng.pick([10, 30, 100, 1_000_000]),
    keepEntries: rng.pick([0, 5, 20]),
    faults: {
      crashUs: mean(400 * MS),
      pauseUs: mean(500 * MS),
      partitionUs: mean(400 * MS),
      stormUs: mean(1500 * MS, 0.5),
      membershipUs: mean(600 * MS, 0.3),
      transferUs: mean(700 * MS, 0.3),
      snapshotUs: mean(500 * MS, 0.3),
      targetedCrashShare: rng.pick([0, 0.3, 0.6]),
      momentFaultChance: rng.pick([0, 0.2, 0.4, 0.6]),
    },
    clients: rng.range(1, 4),
    keys: rng.range(1, 3),
    thinkMaxUs: rng.range(0, 20) * MS,
    mix: rng.pick([
      [35, 30, 20, 15],
      [60, 20, 15, 5],
      [20, 30, 40, 10],
    ] as const),
    giveUpAfter: rng.pick([2, 4, 1_000_000]),
    chaosUs: rng.range(2000, 4000) * MS,
    healTicks: 400,
  };
  // Drawn from a generator of its own, so that adding it left every other draw of a seed as it was.
  const commitRng = new SimRng(seed).fork(0xc0de);
  const commitDelayUs = commitRng.chance(0.5) ? 0 : commitRng.pick([100, 2 * MS, 30 * MS]);
  // Its own generator too, for the same reason.
  const holdRng = new SimRng(seed).fork(0x401d);
  const applyHoldUs = holdRng.chance(0.5) ? 0 : holdRng.pick([100, 5 * MS, 30 * MS]);
  return { ...plan, commitDelayUs, applyHoldUs, ...overrides };
}

/** One line describing a plan, for reports. */
export function describePlan(p: SeedPlan): string {
  const f = p.faults;
  const ms = (us: number) => (us === 0 ? "off" : `${Math.round(us / 1000)}ms`);
  return (
    `${p.voters} voters + ${p.learners} learners, ${p.lease ? "lease" : "read-index"} reads, ` +
    `preVote=${p.preVote} heartbeat=${p.heartbeatTick} drift=${p.drift} ` +
    `commitDelay=${p.commitDelayUs === 0 ? "none" : `${p.commitDelayUs}us`} ` +
    `applyHold=${p.applyHoldUs === 0 ? "none" : `${p.applyHoldUs}us`} ` +
    `maxSizePerMsg=${p.maxSizePerMsg} inflight=${p.maxInflightMsgs}; net ` +
    `${p.net.minDelayUs}-${p.net.maxDelayUs}us drop=${p.net.dropRate} dup=${p.net.dupRate}; ` +
    `fsync ${p.fsyncMinUs}-${p.fsyncMaxUs}us; snapshot every ${p.snapshotEvery} keep ${p.keepEntries}; ` +
    `mean time between crash ${ms(f.crashUs)} pause ${ms(f.pauseUs)} partition ` +
    `${ms(f.partitionUs)} storm ${ms(f.stormUs)} membership ${ms(f.membershipUs)} transfer ` +
    `${ms(f.transferUs)} snapshot ${ms(f.snapshotUs)}, targeted crashes ${f.targetedCrashShare}, ` +
    `moment faults ${f.momentFaultChance}; ${p.clients} clients on ${p.keys} keys; ` +
    `chaos ${p.chaosUs / 1000}ms`
  );
}
