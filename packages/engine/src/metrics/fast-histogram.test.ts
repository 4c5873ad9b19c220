// FastHistogram must expose exactly what prom-client's own Histogram exposes for the same data.
import { Histogram, Registry } from "prom-client";
import { expect, it } from "vitest";
import { FastHistogram } from "./fast-histogram.js";

const BOUNDS = [0.001, 0.01, 0.1, 1];

it("renders the same Prometheus text as prom-client's Histogram", async () => {
  const ours = new Registry();
  const theirs = new Registry();
  const fast = new FastHistogram("x_seconds", "help text", BOUNDS, ours);
  const ref = new Histogram({
    name: "x_seconds",
    help: "help text",
    buckets: BOUNDS,
    registers: [theirs],
  });
  // Values on the bounds, between them, past the last one, and zero.
  for (const v of [0, 0.001, 0.0015, 0.01, 0.05, 0.1, 0.5, 1, 7, 0.0004]) {
    fast.observe(v);
    ref.observe(v);
  }
  expect(await ours.metrics()).toBe(await theirs.metrics());
  // Reset: back to zeros, as a fresh histogram shows them (prom-client's reset() shows nothing).
  fast.reset();
  const fresh = new Registry();
  new Histogram({ name: "x_seconds", help: "help text", buckets: BOUNDS, registers: [fresh] });
  expect(await ours.metrics()).toBe(await fresh.metrics());
});

it("ignores values that are not finite numbers and refuses unordered bounds", async () => {
  const r = new Registry();
  const h = new FastHistogram("y", "h", BOUNDS, r);
  h.observe(Number.NaN);
  h.observe(Number.POSITIVE_INFINITY);
  expect(h.get().values.at(-1)?.value).toBe(0);
  expect(() => new FastHistogram("z", "h", [1, 1], r)).toThrow(/increase/);
});
