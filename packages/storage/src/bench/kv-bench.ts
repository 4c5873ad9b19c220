// The KV state machine's benchmark, per backend: puts per second (8-byte keys, 256-byte values,
// encoded commands applied with applyBatch in batches, as the runtime applies a Ready's committed
// entries together) for new keys in key order, new keys scattered over the key space, and
// overwrites; a range over 10,000 keys; snapshot write and restore of `keys` keys (default one
// million). Returns the goal line `lmdb state machine puts/s: N` (new keys in key order).
//
//   node dist/bench/kv-bench.js [--seconds 2] [--keys 1000000] [--batch 1024] [--backends a,b]

import { createReadStream } from "node:fs";
import { mkdtemp, open, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { writeU64 } from "../kv/bytes.js";
import { openFileKv } from "../kv/file/file-kv.js";
import { openLmdbKv } from "../kv/lmdb/lmdb-kv.js";
import { openMemoryKv } from "../kv/memory/memory-kv.js";
import type { KvStateMachine } from "../kv/state-machine.js";
import type { KvEntry } from "../kv/types.js";
import { WireWriter } from "../kv/wire.js";

export type KvBenchBackend = "memory" | "file" | "lmdb";

export interface KvBenchOptions {
  /** Seconds spent measuring puts, and ranges (default 2). */
  readonly seconds?: number;
  /** Keys in the snapshot measurement (default 1,000,000). */
  readonly keys?: number;
  /** Entries per applyBatch (default 1024, the log benchmark's large batch). */
  readonly batch?: number;
  readonly backends?: readonly KvBenchBackend[];
  /** Where the state goes (default: a fresh temporary directory, removed afterwards). */
  readonly dir?: string;
  /** Where the tables go (default console.log). */
  readonly print?: (line: string) => void;
}

const KEY_BYTES = 8;
const VALUE_BYTES = 256;
const RANGE_KEYS = 10_000;

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

type KeyOrder = "sequential" | "random";

/** The i-th benchmark key: in order, or scattered (distinct for i < 2^32) all over the tree. */
function benchKey(i: number, order: KeyOrder): Uint8Array {
  const k = new Uint8Array(KEY_BYTES);
  writeU64(k, 0, order === "sequential" ? i : Math.imul(i, 0x9e3779b1) >>> 0);
  return k;
}

const VALUE = new Uint8Array(VALUE_BYTES).fill(0x61);

/** A put command's bytes (dengine.v1.KvCommand: time_ms, put{key, value}), written directly. */
function putCommand(key: Uint8Array, timeMs: number): Uint8Array {
  const w = new WireWriter(KEY_BYTES + VALUE_BYTES + 24);
  w.uintField(1, timeMs);
  w.nested(10, () => {
    w.bytesField(1, key);
    w.bytesField(2, VALUE);
  });
  return w.finish();
}

async function openBackend(backend: KvBenchBackend, dir: string): Promise<KvStateMachine> {
  switch (backend) {
    case "memory":
      return openMemoryKv();
    case "file":
      return openFileKv({ dir });
    case "lmdb":
      return openLmdbKv({ path: dir });
  }
}

/**
 * Applies puts of keys key(from) .. key(to - 1) in batches; returns the seconds spent inside
 * applyBatch (building the commands is not counted).
 */
function fill(
  sm: KvStateMachine,
  from: number,
  to: number,
  batch: number,
  key: (i: number) => Uint8Array,
): number {
  let spent = 0;
  let index = sm.appliedIndex();
  for (let i = from; i < to; i += batch) {
    const entries: KvEntry[] = [];
    for (let j = i; j < Math.min(to, i + batch); j++) {
      entries.push({ index: ++index, command: putCommand(key(j), 1000 + index) });
    }
    const t0 = nowMs();
    sm.applyBatch(entries);
    spent += nowMs() - t0;
  }
  return spent / 1000;
}

/** Puts for `seconds` of apply time (at least `min` of them); returns puts per second. */
function putsFor(
  sm: KvStateMachine,
  seconds: number,
  min: number,
  batch: number,
  key: (i: number) => Uint8Array,
): number {
  let puts = 0;
  let spent = 0;
  while (spent < seconds || puts < min) {
    spent += fill(sm, puts, puts + batch, batch, key);
    puts += batch;
  }
  return puts / spent;
}

interface Figures {
  sequentialPuts: number;
  randomPuts: number;
  overwrites: number;
  rangeMs: number;
  loadSec: number;
  snapshotBytes: number;
  writeSec: number;
  restoreSec: number;
}

// Each phase is its own function, so the state machines of one phase are garbage by the next
// (a memory backend holding a million keys slows every later garbage collection).

/** New keys in key order, the range, then overwrites, on one state machine. */
async function sequentialPhase(
  backend: KvBenchBackend,
  dir: string,
  seconds: number,
  batch: number,
): Promise<{ sequentialPuts: number; rangeMs: number; overwrites: number }> {
  const sm = await openBackend(backend, join(dir, `${backend}-seq`));
  const sequentialPuts = putsFor(sm, seconds, RANGE_KEYS, batch, (i) => benchKey(i, "sequential"));
  // [key 0, key 10000): exactly 10,000 keys, so count (which etcd computes over the whole
  // range) costs no more than the keys read.
  const rangeEnd = benchKey(RANGE_KEYS, "sequential");
  let ranges = 0;
  const t0 = nowMs();
  while (nowMs() - t0 < seconds * 1000 || ranges < 3) {
    const r = sm.range({ key: new Uint8Array(KEY_BYTES), rangeEnd });
    if (r.kvs.length !== RANGE_KEYS) throw new Error(`range returned ${r.kvs.length} keys`);
    ranges++;
  }
  const rangeMs = (nowMs() - t0) / ranges;
  // Overwrites of a hot set of 10,000 keys, scattered over it.
  const overwrites = putsFor(sm, seconds, batch, batch, (i) =>
    benchKey((Math.imul(i, 0x9e3779b1) >>> 0) % RANGE_KEYS, "sequential"),
  );
  await sm.close();
  await rm(join(dir, `${backend}-seq`), { recursive: true, force: true });
  return { sequentialPuts, rangeMs, overwrites };
}

/** New keys scattered over the key space: every put lands on a different B-tree page. */
async function scatteredPhase(
  backend: KvBenchBackend,
  dir: string,
  seconds: number,
  batch: number,
): Promise<number> {
  const sm = await openBackend(backend, join(dir, `${backend}-rnd`));
  const puts = putsFor(sm, seconds, batch, batch, (i) => benchKey(i, "random"));
  await sm.close();
  await rm(join(dir, `${backend}-rnd`), { recursive: true, force: true });
  return puts;
}

/** Loads `keys` keys and writes a snapshot of them to `file` (fsynced). */
async function snapshotWritePhase(
  backend: KvBenchBackend,
  dir: string,
  keys: number,
  batch: number,
  file: string,
): Promise<{ loadSec: number; writeSec: number }> {
  const sm = await openBackend(backend, join(dir, `${backend}-snap-src`));
  const loadSec = fill(sm, 0, keys, batch, (i) => benchKey(i, "sequential"));
  const t0 = nowMs();
  const chunks = [...sm.snapshot()];
  const fh = await open(file, "w");
  for (const c of chunks) await fh.write(c);
  await fh.sync();
  await fh.close();
  const writeSec = (nowMs() - t0) / 1000;
  await sm.close();
  await rm(join(dir, `${backend}-snap-src`), { recursive: true, force: true });
  return { loadSec, writeSec };
}

/** Restores the snapshot in `file` into a fresh state machine. */
async function snapshotRestorePhase(
  backend: KvBenchBackend,
  dir: string,
  keys: number,
  file: string,
): Promise<number> {
  const sm = await openBackend(backend, join(dir, `${backend}-snap-dst`));
  const t0 = nowMs();
  await sm.restore(createReadStream(file, { highWaterMark: 1 << 20 }));
  const restoreSec = (nowMs() - t0) / 1000;
  const restored = sm.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0), countOnly: true });
  if (restored.count !== keys) {
    throw new Error(`the restored state holds ${restored.count} keys, not ${keys}`);
  }
  await sm.close();
  await rm(join(dir, `${backend}-snap-dst`), { recursive: true, force: true });
  return restoreSec;
}

async function measureBackend(
  backend: KvBenchBackend,
  dir: string,
  seconds: number,
  keys: number,
  batch: number,
): Promise<Figures> {
  const seq = await sequentialPhase(backend, dir, seconds, batch);
  const randomPuts = await scatteredPhase(backend, dir, seconds, batch);
  const file = join(dir, `${backend}.snap`);
  const { loadSec, writeSec } = await snapshotWritePhase(backend, dir, keys, batch, file);
  const snapshotBytes = (await stat(file)).size;
  const restoreSec = await snapshotRestorePhase(backend, dir, keys, file);
  await rm(file, { force: true });
  return { ...seq, randomPuts, loadSec, snapshotBytes, writeSec, restoreSec };
}

const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");

export async function runKvBench(opts: KvBenchOptions = {}): Promise<string[]> {
  const seconds = opts.seconds ?? 2;
  const keys = Math.floor(opts.keys ?? 1_000_000);
  const batch = Math.floor(opts.batch ?? 1024);
  const backends = opts.backends ?? ["memory", "file", "lmdb"];
  const print = opts.print ?? ((line: string) => console.log(line));
  const dir = opts.dir ?? (await mkdtemp(join(tmpdir(), "dengine-kv-bench-")));
  const goals: string[] = [];
  print(
    `KV state machine: ${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, ${fmt(batch)} entries per applyBatch (LMDB: one synced transaction each)`,
  );
  try {
    for (const backend of backends) {
      const f = await measureBackend(backend, dir, seconds, keys, batch);
      const mb = f.snapshotBytes / 1e6;
      const row = (label: string, value: string) => print(`  ${label.padEnd(36)}${value}`);
      print("");
      print(backend);
      row("puts/s, new keys in key order", fmt(f.sequentialPuts).padStart(10));
      row("puts/s, new keys scattered", fmt(f.randomPuts).padStart(10));
      row(`puts/s, overwrites of ${fmt(RANGE_KEYS)} keys`, fmt(f.overwrites).padStart(10));
      row(
        `range over ${fmt(RANGE_KEYS)} keys`,
        `${f.rangeMs.toFixed(2).padStart(10)} ms  (${fmt((RANGE_KEYS / f.rangeMs) * 1000)} keys/s)`,
      );
      row(`load ${fmt(keys)} keys (in key order)`, `${f.loadSec.toFixed(2).padStart(10)} s`);
      row(
        "snapshot write (to a file, fsynced)",
        `${f.writeSec.toFixed(2).padStart(10)} s   (${mb.toFixed(1)} MB, ${(mb / f.writeSec).toFixed(1)} MB/s)`,
      );
      row(
        "snapshot restore (from the file)",
        `${f.restoreSec.toFixed(2).padStart(10)} s   (${(mb / f.restoreSec).toFixed(1)} MB/s)`,
      );
      if (backend === "lmdb") {
        goals.push(`lmdb state machine puts/s: ${Math.round(f.sequentialPuts)}`);
      }
    }
  } finally {
    if (opts.dir === undefined) await rm(dir, { recursive: true, force: true });
  }
  return goals;
}

function positive(name: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v.replaceAll("_", "").replaceAll(",", ""));
  if (!(n > 0)) throw new Error(`--${name} needs a positive number, got "${v}"`);
  return n;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      seconds: { type: "string" },
      keys: { type: "string" },
      batch: { type: "string" },
      backends: { type: "string" },
    },
    strict: true,
  });
  const goals = await runKvBench({
    seconds: positive("seconds", values.seconds, 2),
    keys: positive("keys", values.keys, 1_000_000),
    batch: positive("batch", values.batch, 1024),
    backends: values.backends?.split(",") as KvBenchBackend[] | undefined,
  });
  console.log("");
  for (const g of goals) console.log(g);
}
