// A strict reader of the Prometheus text exposition format (version 0.0.4), for tests: it throws
// on anything a Prometheus server would reject or that the format forbids, naming the line, and
// checks each histogram's shape (cumulative buckets, +Inf equal to _count).
//   https://prometheus.io/docs/instrumenting/exposition_formats/
export type MetricType = "counter" | "gauge" | "histogram" | "summary" | "untyped";

export interface PromSample {
  /** The series name (for a histogram: name_bucket, name_sum, name_count). */
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

export interface PromFamily {
  readonly name: string;
  readonly type: MetricType;
  readonly help: string | undefined;
  readonly samples: readonly PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<MetricType>(["counter", "gauge", "histogram", "summary", "untyped"]);

export class PromParseError extends Error {}

export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<
    string,
    { name: string; type: MetricType; help: string | undefined; samples: PromSample[] }
  >();
  /** Families whose samples ended (another family's sample came after): they may not resume. */
  const closed = new Set<string>();
  let current: string | undefined;
  if (text.length > 0 && !text.endsWith("\n")) throw new PromParseError("the text must end in \\n");
  const lines = text.split("\n");
  lines.pop();
  const family = (name: string) => {
    let f = families.get(name);
    if (!f) {
      f = { name, type: "untyped", help: undefined, samples: [] };
      families.set(name, f);
    }
    return f;
  };
  lines.forEach((line, i) => {
    const where = `line ${i + 1} ("${line.slice(0, 80)}")`;
    const fail = (why: string): never => {
      throw new PromParseError(`${where}: ${why}`);
    };
    if (line.trim() === "") return;
    if (line.startsWith("#")) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // an ordinary comment
      const [, kind, name, rest = ""] = m as unknown as [string, string, string, string?];
      if (!NAME.test(name)) fail(`bad metric name ${name}`);
      const f = family(name);
      if (kind === "HELP") {
        if (f.help !== undefined) fail(`a second HELP for ${name}`);
        f.help = unescapeText(rest, false, fail);
      } else {
        if (!TYPES.has(rest as MetricType)) fail(`unknown type "${rest}"`);
        if (f.samples.length > 0) fail(`TYPE for ${name} after its samples`);
        if (f.type !== "untyped") fail(`a second TYPE for ${name}`);
        f.type = rest as MetricType;
      }
      return;
    }
    const sample = parseSample(line, fail);
    const owner = familyOf(sample.name, families);
    if (current !== owner) {
      if (current !== undefined) closed.add(current);
      if (closed.has(owner)) fail(`samples of ${owner} are not together`);
      current = owner;
    }
    family(owner).samples.push(sample);
  });
  for (const f of families.values()) if (f.type === "histogram") checkHistogram(f);
  return families;
}

/** name_bucket, name_sum and name_count belong to histogram (or summary) `name`. */
function familyOf(series: string, families: ReadonlyMap<string, { type: MetricType }>): string {
  for (const suffix of ["_bucket", "_sum", "_count"]) {
    if (!series.endsWith(suffix)) continue;
    const base = series.slice(0, -suffix.length);
    const t = families.get(base)?.type;
    if (t === "histogram" || (t === "summary" && suffix !== "_bucket")) return base;
  }
  return series;
}

function parseSample(line: string, fail: (why: string) => never): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)/.exec(line);
  if (!m) fail("a sample must start with a metric name");
  const name = (m as RegExpExecArray)[1] as string;
  let pos = name.length;
  const labels: Record<string, string> = {};
  if (line[pos] === "{") {
    pos++;
    while (line[pos] !== "}") {
      const lm = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(pos));
      if (!lm) fail("bad label");
      const label = (lm as RegExpExecArray)[1] as string;
      if (!LABEL_NAME.test(label)) fail(`bad label name ${label}`);
      if (label in labels) fail(`label ${label} twice`);
      pos += (lm as RegExpExecArray)[0].length;
      let raw = "";
      for (;;) {
        const c = line[pos];
        if (c === undefined) fail("unterminated label value");
        if (c === '"') break;
        if (c === "\\") {
          raw += c + (line[pos + 1] ?? "");
          pos += 2;
          continue;
        }
        raw += c;
        pos++;
      }
      labels[label] = unescapeText(raw, true, fail);
      pos++;
      if (line[pos] === ",") pos++;
      else if (line[pos] !== "}") fail("labels must be separated by ','");
    }
    pos++;
  }
  const rest = line.slice(pos);
  const vm = /^ (\S+)(?: (-?\d+))?$/.exec(rest);
  if (!vm) fail("a sample needs ' value [timestamp]' after its name and labels");
  return { name, labels, value: parseValue((vm as RegExpExecArray)[1] as string, fail) };
}

// Prometheus reads values with Go's strconv.ParseFloat, which takes NaN and Inf in any case:
// prom-client writes an event-loop-lag mean with no samples yet as "Nan", and Prometheus accepts it.
function parseValue(s: string, fail: (why: string) => never): number {
  const lower = s.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Number.POSITIVE_INFINITY;
  if (lower === "-inf") return Number.NEGATIVE_INFINITY;
  if (lower === "nan") return Number.NaN;
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(s)) fail(`bad value "${s}"`);
  return Number(s);
}

/** HELP text escapes \\ and \n; label values also \". */
function unescapeText(s: string, quotes: boolean, fail: (why: string) => never): string {
  return s.replace(/\\(.?)/g, (_, c: string) => {
    if (c === "\\") return "\\";
    if (c === "n") return "\n";
    if (c === '"' && quotes) return '"';
    return fail(`bad escape \\${c}`);
  });
}

function checkHistogram(f: PromFamily): void {
  const fail = (why: string): never => {
    throw new PromParseError(`histogram ${f.name}: ${why}`);
  };
  const key = (labels: Readonly<Record<string, string>>) =>
    JSON.stringify(
      Object.entries(labels)
        .filter(([k]) => k !== "le")
        .sort(),
    );
  const series = new Map<string, { buckets: [number, number][]; sum?: number; count?: number }>();
  const get = (labels: Readonly<Record<string, string>>) => {
    const k = key(labels);
    let s = series.get(k);
    if (!s) {
      s = { buckets: [] };
      series.set(k, s);
    }
    return s;
  };
  for (const s of f.samples) {
    if (s.name === `${f.name}_bucket`) {
      const le = s.labels.le;
      if (le === undefined) fail("a bucket without le");
      get(s.labels).buckets.push([parseValue(le as string, fail), s.value]);
    } else if (s.name === `${f.name}_sum`) get(s.labels).sum = s.value;
    else if (s.name === `${f.name}_count`) get(s.labels).count = s.value;
    else fail(`unexpected series ${s.name}`);
  }
  for (const s of series.values()) {
    if (s.count === undefined || s.sum === undefined) fail("missing _sum or _count");
    const last = s.buckets.at(-1);
    if (!last || last[0] !== Number.POSITIVE_INFINITY) fail('no le="+Inf" bucket');
    for (let i = 1; i < s.buckets.length; i++) {
      const [pb, pc] = s.buckets[i - 1] as [number, number];
      const [b, c] = s.buckets[i] as [number, number];
      if (!(b > pb)) fail("bucket bounds must increase");
      if (c < pc) fail("bucket counts must be cumulative");
    }
    if ((last as [number, number])[1] !== s.count) fail("the +Inf bucket must equal _count");
  }
}

/** The value of `series` with exactly `labels` (default: none), or undefined. */
export function sampleValue(
  families: ReadonlyMap<string, PromFamily>,
  family: string,
  series = family,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  const want = JSON.stringify(Object.entries(labels).sort());
  return families
    .get(family)
    ?.samples.find(
      (s) => s.name === series && JSON.stringify(Object.entries(s.labels).sort()) === want,
    )?.value;
}
