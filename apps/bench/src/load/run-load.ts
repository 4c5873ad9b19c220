// Closed-loop load: `clients` logical clients each await one operation before starting their next,
// drawing operation numbers from one shared counter until `ops` are done. The clock runs from the
// first operation to the last answer; every operation's latency is kept (latency.ts). Each client
// reads the clock once per operation: an operation's latency runs from the previous answer (or
// the client's start) to its own answer, so the few statements between two operations count
// against the store, never for it, and a clock read (~0.06 µs here) is not paid twice.
import { performance } from "node:perf_hooks";
import { benchValue, keyOf, type LoadSpec } from "../scenarios.js";
import { Latencies, type LatencySummary } from "./latency.js";

/** What the load runs against: one of `connections` connections per logical client. */
export interface Target {
  /** Connections (network clients) available; logical client c uses connection c % connections. */
  readonly connections: number;
  put(conn: number, key: string, value: Uint8Array): Promise<unknown>;
  /**
   * Resolves to what was read, undefined or null if the key is missing (a preloaded key that is
   * missing counts as an error). The client's own promise, unwrapped: at a million reads a second
   * an async wrapper per call is a visible share of what the clock measures.
   */
  get(conn: number, key: string, consistency: LoadSpec["consistency"]): Promise<unknown>;
}

export interface LoadResult extends LatencySummary {
  /** Operations that succeeded. */
  readonly ops: number;
  readonly errors: number;
  /** The first error's message, if any. */
  readonly firstError?: string;
  readonly clients: number;
  readonly connections: number;
  readonly elapsedMs: number;
  readonly opsPerSec: number;
}

export async function runLoad(spec: LoadSpec, target: Target): Promise<LoadResult> {
  const value = benchValue();
  const latencies = new Latencies(spec.ops);
  const connections = Math.max(1, Math.min(target.connections, spec.clients));
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const fail = (e: unknown) => {
    errors++;
    firstError ??= e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  };

  // A read scenario's few keys are built once: at a million reads a second, building each key
  // string (a pad and a concatenation) would be a visible part of what the clock measures.
  const readKeys =
    spec.kind === "read"
      ? Array.from({ length: spec.keySpace }, (_, k) => keyOf(spec.prefix, k))
      : undefined;

  const client = async (c: number): Promise<void> => {
    const conn = c % connections;
    let t0 = performance.now();
    while (next < spec.ops) {
      const i = next++;
      try {
        if (readKeys === undefined) {
          await target.put(conn, keyOf(spec.prefix, i), value);
        } else {
          const key = readKeys[i % readKeys.length] as string;
          const found = await target.get(conn, key, spec.consistency);
          if (found === undefined || found === null) throw new Error(`key ${key} not found`);
        }
        const t1 = performance.now();
        latencies.record(t1 - t0);
        t0 = t1;
      } catch (e) {
        fail(e);
        t0 = performance.now();
      }
    }
  };

  const start = performance.now();
  await Promise.all(Array.from({ length: spec.clients }, (_, c) => client(c)));
  const elapsedMs = performance.now() - start;
  const ops = latencies.count;
  return {
    ops,
    errors,
    ...(firstError !== undefined ? { firstError } : {}),
    clients: spec.clients,
    connections,
    elapsedMs,
    opsPerSec: elapsedMs > 0 ? (ops * 1000) / elapsedMs : 0,
    ...latencies.summary(),
  };
}

/** Reads warm up until this many have run (or 3x the timed run) or READ_WARMUP_MS has passed. */
export const READ_WARMUP_MAX_OPS = 300_000;
export const READ_WARMUP_MS = 2_000;
/** Writes warm up until this many have run (or 3x the timed run) or WRITE_WARMUP_MS has passed. */
export const WRITE_WARMUP_MAX_OPS = 3_000;
export const WRITE_WARMUP_MS = 10_000;

/**
 * Untimed runs of the same kind before the timed one, which also open every connection the timed
 * run will use; every mode (and etcd) gets the same warmup. Both kinds warm up in rounds
 * (warmupSpec) until a number of operations or a time limit, checked between rounds: a process's
 * first operations run its code before V8 has optimized it, and V8 optimizes a function only
 * after many calls.
 *
 * - Reads: until READ_WARMUP_MAX_OPS reads or READ_WARMUP_MS. Measured in one process with lease
 *   reads at 1,000 clients: after 10,000 warmup reads, the next 100,000 ran at 645k/s and the
 *   ones after at ~1M/s; after 300,000, the first timed run was already at 940k/s. Against a
 *   network server (thousands of reads a second) the warmup is one or two rounds of 10,000 reads.
 * - Writes: until WRITE_WARMUP_MAX_OPS writes or WRITE_WARMUP_MS. Measured on a fresh embedded
 *   three-node cluster, one client, rounds of 500 writes: 271, 339, 426 and 489 writes/s in the
 *   first four rounds, then 600-720 (p99 10.6 ms falling to 3.3-5.3 ms); with V8's optimizing
 *   compiler off (--no-opt) rounds of 2,000 ran at 280-343/s with no climb: it is the compiler.
 *   A single client's writes reach steady speed after about 2,300; a warmup of 200 left the
 *   timed run's first ~4,000 writes in the climb.
 */
export async function warmUp(spec: LoadSpec, target: Target, connections: number): Promise<void> {
  const round = warmupSpec(spec, connections);
  const read = spec.kind === "read";
  // Three times the timed run at most: a short run (the smoke test's) warms up briefly too.
  const most = Math.min(read ? READ_WARMUP_MAX_OPS : WRITE_WARMUP_MAX_OPS, 3 * spec.ops);
  const limitMs = read ? READ_WARMUP_MS : WRITE_WARMUP_MS;
  const started = performance.now();
  let done = 0;
  do {
    const r = await runLoad(round, target);
    done += r.ops + r.errors;
    // A target that fails everything fails the timed run too; no point warming it up.
    if (r.ops === 0) break;
  } while (done < most && performance.now() - started < limitMs);
}

/**
 * One warmup round: a short untimed run of the same kind. Reads run a third of the run, up to
 * 10,000, per round, with as many clients as connections; writes 200 (at least one per client),
 * with the run's clients, each on keys of the warmup's own.
 */
export function warmupSpec(spec: LoadSpec, connections: number): LoadSpec {
  if (spec.kind === "write") {
    const ops = Math.max(spec.clients, Math.min(200, Math.ceil(spec.ops / 10)));
    // The warmup's own keys, so that the timed run's keys are all new.
    return { ...spec, ops, prefix: "w" };
  }
  const clients = Math.max(1, Math.min(spec.clients, connections));
  const ops = Math.max(clients, Math.min(10_000, Math.ceil(spec.ops / 3)));
  return { ...spec, ops, clients };
}
