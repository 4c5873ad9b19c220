// The sample dashboard and scrape config in deploy/ must match what the server exposes: every
// d-engine metric the dashboard queries exists, and the scrape targets are the local cluster's
// default metrics addresses.
import { readFileSync } from "node:fs";
import { METRIC_NAMES } from "@d-engine/engine";
import { expect, it } from "vitest";
import { parse } from "yaml";
import { DEFAULTS, loadConfig } from "../config/index.js";

const deploy = (path: string) =>
  readFileSync(new URL(`../../../../deploy/${path}`, import.meta.url), "utf8");

it("the Grafana dashboard queries only metrics the node exposes", () => {
  const dashboard = JSON.parse(deploy("grafana/d-engine-dashboard.json")) as {
    panels: { targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));
  const used = new Set(
    exprs.flatMap((e) => [...e.matchAll(/\bdengine_[a-z_]+/g)].map((m) => m[0])),
  );
  const known = new Set<string>(Object.values(METRIC_NAMES));
  const family = (n: string) => n.replace(/_(bucket|sum|count)$/, "");
  expect([...used].filter((n) => !known.has(n) && !known.has(family(n)))).toEqual([]);
  // Every d-engine metric has a panel.
  expect([...known].filter((n) => ![...used].some((u) => family(u) === n || u === n))).toEqual([]);
});

it("the Prometheus config scrapes the local cluster's default metrics listeners", () => {
  const config = parse(deploy("prometheus/prometheus.yml")) as {
    scrape_configs: { metrics_path: string; static_configs: { targets: string[] }[] }[];
  };
  const job = config.scrape_configs[0]!;
  expect(job.metrics_path).toBe("/metrics");
  const targets = job.static_configs.flatMap((s) => s.targets);
  // local-cluster.mjs puts node N on 127.0.0.1:(9080 + N); each listens for metrics at the default.
  const expected = [1, 2, 3].map(
    (id) =>
      loadConfig({ env: { DENGINE_LISTEN: `127.0.0.1:${9080 + id}` }, cwd: "/srv" }).config.metrics
        .listen,
  );
  expect(targets).toEqual(expected);
  expect(DEFAULTS.metrics.listen).toBeUndefined();
});
