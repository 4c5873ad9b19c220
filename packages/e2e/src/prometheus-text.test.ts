// The test parser accepts what prom-client writes and rejects what the format forbids.
import { Histogram, Registry } from "prom-client";
import { expect, it } from "vitest";
import { parsePrometheusText, sampleValue } from "./prometheus-text.js";

it("reads HELP, TYPE, labels with escapes and histogram series", () => {
  const f = parsePrometheusText(
    [
      "# HELP a_total A \\\\ counter\\nwith two lines",
      "# TYPE a_total counter",
      'a_total{path="/x",q="say \\"hi\\""} 3',
      "# TYPE h histogram",
      'h_bucket{le="0.1"} 1',
      'h_bucket{le="+Inf"} 2',
      "h_sum 0.35",
      "h_count 2",
      "",
    ].join("\n"),
  );
  expect(f.get("a_total")?.help).toBe("A \\ counter\nwith two lines");
  expect(f.get("a_total")?.samples[0]?.labels).toEqual({ path: "/x", q: 'say "hi"' });
  expect(sampleValue(f, "h", "h_count")).toBe(2);
  expect(sampleValue(f, "h", "h_bucket", { le: "+Inf" })).toBe(2);
});

it.each([
  ["no final newline", "x 1"],
  ["a bad value", "x one\n"],
  ["a TYPE after samples", "x 1\n# TYPE x gauge\n"],
  ["an unknown type", "# TYPE x meter\n"],
  ["an unterminated label", 'x{a="b} 1\n'],
  ["a repeated label", 'x{a="1",a="2"} 1\n'],
  ["a bad escape", 'x{a="\\t"} 1\n'],
  ["split samples", "x 1\ny 1\nx 2\n"],
  [
    "non-cumulative buckets",
    '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n',
  ],
  ["+Inf not equal to _count", '# TYPE h histogram\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 2\n'],
])("rejects %s", (_, text) => {
  expect(() => parsePrometheusText(text)).toThrow();
});

it("accepts prom-client's own output", async () => {
  const r = new Registry();
  const h = new Histogram({
    name: "lat_seconds",
    help: "latency",
    registers: [r],
    labelNames: ["op"],
  });
  h.observe({ op: "put" }, 0.2);
  h.observe({ op: "get" }, 3);
  const f = parsePrometheusText(await r.metrics());
  expect(sampleValue(f, "lat_seconds", "lat_seconds_count", { op: "get" })).toBe(1);
});

it("reads NaN and Inf in any case, as Prometheus does (prom-client writes an empty mean as Nan)", () => {
  const f = parsePrometheusText("a Nan\nb +inf\nc -Inf\nd NaN\n");
  expect(Number.isNaN(f.get("a")?.samples[0]?.value)).toBe(true);
  expect(f.get("b")?.samples[0]?.value).toBe(Number.POSITIVE_INFINITY);
  expect(f.get("c")?.samples[0]?.value).toBe(Number.NEGATIVE_INFINITY);
  expect(() => parsePrometheusText("a nann\n")).toThrow();
});
