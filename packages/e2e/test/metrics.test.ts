// Issue 6, test 5: each server process serves /metrics as well-formed Prometheus text with every
// d-engine metric, and its counters and histograms move under a load of writes; /health says the
// node has a leader.
import { METRIC_NAMES } from "@d-engine/engine";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCluster } from "../src/cluster.js";
import { type PromFamily, parsePrometheusText, sampleValue } from "../src/prometheus-text.js";
import { waitFor } from "../src/wait.js";

let cluster: LocalCluster;
let leaderId: number;

beforeAll(async () => {
  cluster = await LocalCluster.start({ size: 3 });
  leaderId = await cluster.waitForLeader();
});

afterAll(async () => {
  await cluster?.stop();
});

async function scrape(id: number): Promise<Map<string, PromFamily>> {
  const res = await fetch(`http://${cluster.node(id).metricsAddress}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
  return parsePrometheusText(await res.text());
}

function value(families: Map<string, PromFamily>, family: string, series = family): number {
  const v = sampleValue(families, family, series);
  if (v === undefined) throw new Error(`no sample ${series} in ${family}`);
  return v;
}

const TYPES: Record<string, string> = {
  [METRIC_NAMES.proposeToCommit]: "histogram",
  [METRIC_NAMES.proposeToApply]: "histogram",
  [METRIC_NAMES.persist]: "histogram",
  [METRIC_NAMES.applyBatch]: "histogram",
  [METRIC_NAMES.applyDuration]: "histogram",
  [METRIC_NAMES.leaderChanges]: "counter",
};

describe("/metrics and /health on a three-process cluster", () => {
  it("every node's /metrics parses as Prometheus text with every d-engine metric", async () => {
    for (const id of cluster.nodes.keys()) {
      const families = await scrape(id);
      for (const name of Object.values(METRIC_NAMES)) {
        const f = families.get(name);
        expect(f, `node ${id} has no ${name}`).toBeDefined();
        expect(f?.help, `${name} has no HELP`).toBeTruthy();
        expect(f?.type).toBe(TYPES[name] ?? "gauge");
      }
      // The process's own metrics are there too (the event loop matters to Raft timing).
      expect(families.get("nodejs_eventloop_lag_seconds")?.type).toBe("gauge");
      expect(families.get("process_cpu_user_seconds_total")?.type).toBe("counter");
      expect(value(families, METRIC_NAMES.hasLeader)).toBe(1);
      expect(value(families, METRIC_NAMES.isLeader)).toBe(id === leaderId ? 1 : 0);
    }
  });

  it("/health answers 200 with the leader on every node", async () => {
    for (const n of cluster.nodes.values()) {
      const res = await fetch(`http://${n.metricsAddress}/health`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, unknown>;
      expect(body).toMatchObject({ status: "ok", hasLeader: true, nodeId: n.id, leaderId });
      expect(body.term).toBeGreaterThanOrEqual(1);
      expect(body.appliedIndex).toBeGreaterThanOrEqual(1);
    }
  });

  it("counters and histograms move under a load of writes", async () => {
    const ids = [...cluster.nodes.keys()];
    const before = new Map(
      await Promise.all(ids.map(async (id) => [id, await scrape(id)] as const)),
    );
    const sum = (m: Map<number, Map<string, PromFamily>>, family: string, series: string) =>
      ids.reduce((acc, id) => acc + value(m.get(id)!, family, series), 0);

    const client = cluster.client();
    const writes = 300;
    const inFlight = 16;
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < writes) {
          const i = next++;
          await client.put(`metrics/${i % 50}`, `value-${i}`);
        }
      }),
    );
    const last = await client.put("metrics/last", "x");

    // Followers apply a little after the leader answers: wait until every node applied the last
    // write (its revision's entry), read from the nodes' own gauges.
    const leaderApplied = value(await scrape(leaderId), METRIC_NAMES.appliedIndex);
    for (const id of ids) {
      await waitFor(`node ${id} to apply index ${leaderApplied}`, async () => {
        return value(await scrape(id), METRIC_NAMES.appliedIndex) >= leaderApplied;
      });
    }
    const after = new Map(
      await Promise.all(ids.map(async (id) => [id, await scrape(id)] as const)),
    );

    // Writes are proposed on the leader; summing over nodes keeps this true across a leader change.
    for (const family of [METRIC_NAMES.proposeToCommit, METRIC_NAMES.proposeToApply]) {
      const grew = sum(after, family, `${family}_count`) - sum(before, family, `${family}_count`);
      expect(grew, family).toBeGreaterThanOrEqual(writes + 1);
      expect(sum(after, family, `${family}_sum`)).toBeGreaterThan(
        sum(before, family, `${family}_sum`),
      );
    }
    for (const id of ids) {
      const b = before.get(id)!;
      const a = after.get(id)!;
      const P = METRIC_NAMES.persist;
      const A = METRIC_NAMES.applyBatch;
      expect(value(a, P, `${P}_count`), `node ${id} persisted`).toBeGreaterThan(
        value(b, P, `${P}_count`),
      );
      // Every write is an entry applied on every node: the batch sizes add up to at least them.
      expect(
        value(a, A, `${A}_sum`) - value(b, A, `${A}_sum`),
        `node ${id} applied`,
      ).toBeGreaterThanOrEqual(writes + 1);
      expect(value(a, METRIC_NAMES.appliedIndex)).toBeGreaterThanOrEqual(
        value(b, METRIC_NAMES.appliedIndex) + writes + 1,
      );
      expect(value(a, METRIC_NAMES.commitIndex)).toBeGreaterThanOrEqual(
        value(a, METRIC_NAMES.appliedIndex),
      );
      expect(value(a, METRIC_NAMES.pendingWrites)).toBe(0);
      expect(value(a, METRIC_NAMES.leaderChanges)).toBeGreaterThanOrEqual(1);
    }
    expect(last.revision).toBeGreaterThan(writes);

    // The leader reports each follower's lag; with every write applied everywhere it is small.
    const lag = after.get(leaderId)!.get(METRIC_NAMES.replicationLag)!.samples;
    expect(lag.map((s) => Number(s.labels.peer)).sort()).toEqual(
      ids.filter((i) => i !== leaderId).sort(),
    );
    for (const s of lag) expect(s.value).toBeGreaterThanOrEqual(0);
    const terms = new Set(ids.map((id) => value(after.get(id)!, METRIC_NAMES.term)));
    expect(terms.size).toBe(1);
  });
});
