// EngineMetrics on its own (events and sampled gauges), then on a live three-node cluster in this
// process: writes move the leader's latency histograms and the followers' indexes.
import { MemoryNetwork } from "@d-engine/transport";
import {
  register as globalRegistry,
  type MetricObjectWithValues,
  type MetricValue,
} from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import { EmbeddedEngine } from "../embedded/embedded-engine.js";
import { addressOf, FAST_RAFT } from "../testing/cluster.js";
import { waitFor } from "../testing/wait.js";
import { EngineMetrics, METRIC_NAMES, type MetricsSources } from "./engine-metrics.js";

type Json = MetricObjectWithValues<MetricValue<string>>;

async function json(m: EngineMetrics): Promise<Map<string, Json>> {
  const all = (await m.registry.getMetricsAsJSON()) as Json[];
  return new Map(all.map((x) => [x.name, x]));
}

/** A plain metric's single value, or a histogram's `_count` / `_sum`. */
function value(metrics: Map<string, Json>, name: string, suffix = ""): number {
  const m = metrics.get(name);
  if (!m) throw new Error(`no metric ${name}`);
  const v = m.values.find(
    (x) => ((x as { metricName?: string }).metricName ?? name) === `${name}${suffix}`,
  );
  if (!v) throw new Error(`no value ${name}${suffix}`);
  return v.value;
}

function sources(over: Partial<MetricsSources> = {}): MetricsSources {
  return {
    term: () => 7,
    leader: () => 2,
    isLeader: () => false,
    commitIndex: () => 40,
    appliedIndex: () => 38,
    pendingWrites: () => 3,
    pendingReads: () => 5,
    replicationLag: () => [],
    ...over,
  };
}

describe("EngineMetrics", () => {
  it("keeps each node's metrics in its own registry, never the global one", async () => {
    const a = new EngineMetrics();
    const b = new EngineMetrics();
    expect(a.registry).not.toBe(b.registry);
    a.leaderChanged();
    expect(value(await json(a), METRIC_NAMES.leaderChanges)).toBe(1);
    expect(value(await json(b), METRIC_NAMES.leaderChanges)).toBe(0);
    expect(globalRegistry.getSingleMetric(METRIC_NAMES.leaderChanges)).toBeUndefined();
  });

  it("exposes every metric with HELP and TYPE in the text format", async () => {
    const m = new EngineMetrics();
    m.bind(sources());
    const text = await m.text();
    for (const name of Object.values(METRIC_NAMES)) {
      expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, "m"));
      expect(text).toMatch(new RegExp(`^# TYPE ${name} (counter|gauge|histogram)$`, "m"));
    }
    expect(m.contentType).toMatch(/^text\/plain; version=0\.0\.4/);
  });

  it("times a proposal from propose to the Ready that commits it and to its apply", async () => {
    const m = new EngineMetrics();
    m.commitSeen(1_000);
    m.applied(4, 1_001, 1_003);
    m.proposalApplied(990);
    m.proposalApplied(995);
    m.persisted(500, 500.25);
    const j = await json(m);
    expect(value(j, METRIC_NAMES.proposeToCommit, "_count")).toBe(2);
    expect(value(j, METRIC_NAMES.proposeToCommit, "_sum")).toBeCloseTo(0.01 + 0.005, 9);
    expect(value(j, METRIC_NAMES.proposeToApply, "_sum")).toBeCloseTo(0.013 + 0.008, 9);
    expect(value(j, METRIC_NAMES.applyBatch, "_sum")).toBe(4);
    expect(value(j, METRIC_NAMES.applyDuration, "_sum")).toBeCloseTo(0.002, 9);
    expect(value(j, METRIC_NAMES.persist, "_count")).toBe(1);
    expect(value(j, METRIC_NAMES.persist, "_sum")).toBeCloseTo(0.00025, 9);
  });

  it("samples the node's state at scrape time", async () => {
    const m = new EngineMetrics();
    let term = 7;
    m.bind(sources({ term: () => term }));
    m.setWatcherCount(() => 11);
    m.setLeaseCount(() => 13);
    let j = await json(m);
    expect(value(j, METRIC_NAMES.term)).toBe(7);
    expect(value(j, METRIC_NAMES.hasLeader)).toBe(1);
    expect(value(j, METRIC_NAMES.isLeader)).toBe(0);
    expect(value(j, METRIC_NAMES.commitIndex)).toBe(40);
    expect(value(j, METRIC_NAMES.appliedIndex)).toBe(38);
    expect(value(j, METRIC_NAMES.pendingWrites)).toBe(3);
    expect(value(j, METRIC_NAMES.pendingReads)).toBe(5);
    expect(value(j, METRIC_NAMES.watchers)).toBe(11);
    expect(value(j, METRIC_NAMES.leases)).toBe(13);
    term = 8;
    j = await json(m);
    expect(value(j, METRIC_NAMES.term)).toBe(8);
  });

  it("reports lag per peer, and drops a peer's series once it is not reported", async () => {
    const m = new EngineMetrics();
    let lags: [number, number][] = [
      [2, 0],
      [3, 17],
    ];
    m.bind(sources({ replicationLag: () => lags }));
    let lag = (await json(m)).get(METRIC_NAMES.replicationLag)!.values;
    expect(lag.map((v) => [v.labels.peer, v.value]).sort()).toEqual([
      [2, 0],
      [3, 17],
    ]);
    lags = [];
    lag = (await json(m)).get(METRIC_NAMES.replicationLag)!.values;
    expect(lag).toEqual([]);
  });
});

describe("a node's metrics under writes", () => {
  let engines: EmbeddedEngine[] = [];
  afterEach(async () => {
    await Promise.allSettled(engines.map((e) => e.stop({ transferLeadership: false })));
    engines = [];
  });

  it("moves the leader's histograms by every write and every node's indexes", async () => {
    const net = new MemoryNetwork();
    const members = [1, 2, 3].map((id) => ({ id, address: addressOf(id) }));
    engines = await Promise.all(
      members.map((m) =>
        EmbeddedEngine.start({
          nodeId: m.id,
          clusterId: "metrics",
          address: m.address,
          initialMembers: members,
          raft: { ...FAST_RAFT, seed: 4400 + m.id },
          peerTransport: (h) =>
            net.connect(m.id, h, { onUnreachable: (to) => h.onUnreachable(to) }),
        }),
      ),
    );
    await waitFor(() => engines.some((e) => e.node.isLeader), "a leader");
    const leader = engines.find((e) => e.node.isLeader)!;
    const before = await json(leader.node.metrics);
    const writes = 50;
    await Promise.all(
      Array.from({ length: writes }, (_, i) => leader.client.put(`k${i}`, `v${i}`)),
    );
    // A put with a TTL grants a lease: the leases gauge counts it.
    await leader.client.put("ephemeral", "x", { ttlSeconds: 60 });
    const after = await json(leader.node.metrics);
    expect(value(after, METRIC_NAMES.leases)).toBe(1);
    expect(value(after, METRIC_NAMES.watchers)).toBe(0);
    const grew = (name: string) => value(after, name, "_count") - value(before, name, "_count");
    expect(grew(METRIC_NAMES.proposeToCommit)).toBeGreaterThanOrEqual(writes);
    expect(grew(METRIC_NAMES.proposeToApply)).toBeGreaterThanOrEqual(writes);
    expect(grew(METRIC_NAMES.persist)).toBeGreaterThan(0);
    expect(grew(METRIC_NAMES.applyBatch)).toBeGreaterThan(0);
    expect(value(after, METRIC_NAMES.isLeader)).toBe(1);
    expect(value(after, METRIC_NAMES.term)).toBe(leader.node.term);
    expect(value(after, METRIC_NAMES.leaderChanges)).toBeGreaterThanOrEqual(1);
    expect(value(after, METRIC_NAMES.pendingWrites)).toBe(0);
    const applied = value(after, METRIC_NAMES.appliedIndex);
    expect(applied).toBeGreaterThanOrEqual(writes);
    expect(value(after, METRIC_NAMES.commitIndex)).toBeGreaterThanOrEqual(applied);
    const peers = after.get(METRIC_NAMES.replicationLag)!.values.map((v) => v.labels.peer);
    expect(peers.sort()).toEqual(
      engines
        .filter((e) => e !== leader)
        .map((e) => e.node.id)
        .sort(),
    );
    for (const e of engines) {
      await waitFor(
        async () => value(await json(e.node.metrics), METRIC_NAMES.appliedIndex) >= applied,
        `node ${e.node.id} to apply index ${applied}`,
      );
      const j = await json(e.node.metrics);
      expect(value(j, METRIC_NAMES.hasLeader)).toBe(1);
      expect(value(j, METRIC_NAMES.isLeader)).toBe(e === leader ? 1 : 0);
    }
  });
});
