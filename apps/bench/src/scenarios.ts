// The scenarios of issue 7, as d-engine's own reports and etcd's benchmark docs use them: 8-byte
// keys, 256-byte values; full-size counts scaled by --ops (the smoke test runs tiny ones).
import type { Consistency } from "@d-engine/client";

export type ScenarioName =
  | "single-client-write"
  | "high-concurrency-write"
  | "linearizable-read"
  | "lease-read"
  | "eventual-read"
  | "hot-key";

export const SCENARIO_NAMES: readonly ScenarioName[] = [
  "single-client-write",
  "high-concurrency-write",
  "linearizable-read",
  "lease-read",
  "eventual-read",
  "hot-key",
];

/** What one run of the load does; plain data, so it crosses the IPC channel to an embedded node. */
export interface LoadSpec {
  readonly kind: "write" | "read";
  /** Operations to complete. */
  readonly ops: number;
  /** Logical clients: each awaits its operation before starting the next one. */
  readonly clients: number;
  /** Keys are `prefix` + 7 digits (8 bytes). Writes use key i; reads cycle over `keySpace` keys. */
  readonly prefix: string;
  /** Reads only: how many distinct keys (preloaded with the read prefix). */
  readonly keySpace: number;
  readonly consistency: Consistency;
}

export interface Scenario {
  readonly name: ScenarioName;
  /** The label in the table and the goal lines ("single-client write"). */
  readonly label: string;
  readonly spec: LoadSpec;
}

export const KEY_BYTES = 8;
export const VALUE_BYTES = 256;
/** Keys preloaded for the read scenarios (untimed) at full size, and the hot key scenario's few. */
export const READ_KEYS = 1_000;
export const HOT_KEYS = 10;
export const READ_PREFIX = "r";

/** The read key space at a scale: 1,000 keys at full size, fewer (at least 10) in small runs. */
export function readKeys(scale = 1): number {
  return Math.min(READ_KEYS, Math.max(HOT_KEYS, Math.round(READ_KEYS * scale)));
}

const FULL: Readonly<Record<ScenarioName, { label: string; ops: number; clients: number }>> = {
  "single-client-write": { label: "single-client write", ops: 10_000, clients: 1 },
  "high-concurrency-write": { label: "high-concurrency write", ops: 100_000, clients: 1_000 },
  "linearizable-read": { label: "linearizable read", ops: 100_000, clients: 1_000 },
  "lease-read": { label: "lease read", ops: 100_000, clients: 1_000 },
  "eventual-read": { label: "eventual read", ops: 100_000, clients: 1_000 },
  "hot-key": { label: "hot key", ops: 100_000, clients: 1_000 },
};

/** The scenario at `scale` times its full size (at least one op; never more clients than ops). */
export function scenario(name: ScenarioName, scale = 1): Scenario {
  const f = FULL[name];
  const ops = Math.max(1, Math.round(f.ops * scale));
  const clients = Math.min(f.clients, ops);
  const read = (consistency: Consistency, keySpace: number): LoadSpec => ({
    kind: "read",
    ops,
    clients,
    prefix: READ_PREFIX,
    keySpace,
    consistency,
  });
  const write = (prefix: string): LoadSpec => ({
    kind: "write",
    ops,
    clients,
    prefix,
    keySpace: ops,
    consistency: "linearizable",
  });
  const spec: Record<ScenarioName, LoadSpec> = {
    "single-client-write": write("s"),
    "high-concurrency-write": write("c"),
    "linearizable-read": read("linearizable", readKeys(scale)),
    "lease-read": read("lease", readKeys(scale)),
    "eventual-read": read("eventual", readKeys(scale)),
    "hot-key": read("linearizable", HOT_KEYS),
  };
  return { name, label: f.label, spec: spec[name] };
}

/** The untimed load that writes the keys every read scenario reads. */
export function preloadSpec(scale = 1): LoadSpec {
  const keys = readKeys(scale);
  return {
    kind: "write",
    ops: keys,
    clients: Math.min(100, keys),
    prefix: READ_PREFIX,
    keySpace: keys,
    consistency: "linearizable",
  };
}

/** Key i of a prefix: the prefix and i in 7 digits, 8 bytes in all (wraps past 10^7). */
export function keyOf(prefix: string, i: number): string {
  return prefix + String(i % 10_000_000).padStart(KEY_BYTES - prefix.length, "0");
}

/** The 256-byte value every write puts: a fixed pattern (no randomness, nothing to seed). */
export function benchValue(): Uint8Array {
  const v = new Uint8Array(VALUE_BYTES);
  for (let i = 0; i < v.length; i++) v[i] = 97 + (i % 26);
  return v;
}
