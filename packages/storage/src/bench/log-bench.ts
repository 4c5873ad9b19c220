// Durable log appends per second for 256-byte entries, per backend and batch size: each batch is
// one append awaited until durable (one fsync), issued back to back, so batch 1 measures the
// fsync round trip and batch 1024 the throughput. Also probes the disk's raw fdatasync rate, the
// ceiling for batch 1.
import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Entry, EntryType, SILENT_LOGGER } from "@d-engine/core";
import { openFileStores } from "../raft-store/file/index.js";
import { openLmdbStores } from "../raft-store/lmdb/index.js";
import { openMemoryStores } from "../raft-store/memory/index.js";
import type { RaftStores } from "../raft-store/stores.js";

export type LogBenchBackend = "memory" | "file" | "lmdb";

export interface LogBenchOptions {
  /** Seconds spent on each (backend, batch size) pair (default 2). */
  readonly seconds?: number;
  readonly backends?: readonly LogBenchBackend[];
  readonly batchSizes?: readonly number[];
  /** Payload bytes per entry (default 256). */
  readonly entryBytes?: number;
  /** Where the stores go (default: a fresh temporary directory, removed afterwards). */
  readonly dir?: string;
  /** Where the tables go (default console.log). */
  readonly print?: (line: string) => void;
}

interface Row {
  readonly batch: number;
  readonly entriesPerSec: number;
  readonly batchesPerSec: number;
  readonly p50ms: number;
  readonly p99ms: number;
}

function openBackend(backend: LogBenchBackend, dir: string): Promise<RaftStores> {
  switch (backend) {
    case "memory":
      return openMemoryStores();
    case "file":
      return openFileStores(dir, { logger: SILENT_LOGGER });
    case "lmdb":
      return openLmdbStores(dir);
  }
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] as number;
}

const nowMs = (): number => Number(process.hrtime.bigint()) / 1e6;

async function measure(
  stores: RaftStores,
  batch: number,
  seconds: number,
  data: Uint8Array,
): Promise<Row> {
  const { log } = stores;
  const latencies: number[] = [];
  let entries = 0;
  const start = nowMs();
  const end = start + seconds * 1000;
  // At least a few batches, however slow the disk.
  while (nowMs() < end || latencies.length < 5) {
    const first = log.lastIndex() + 1;
    const ents: Entry[] = new Array(batch);
    for (let i = 0; i < batch; i++) {
      ents[i] = { index: first + i, term: 1, type: EntryType.Normal, data };
    }
    const t0 = nowMs();
    await log.append(ents);
    latencies.push(nowMs() - t0);
    entries += batch;
  }
  const elapsed = (nowMs() - start) / 1000;
  // Keep the next measurement's log (and memory) small.
  await log.compact(log.lastIndex());
  latencies.sort((a, b) => a - b);
  return {
    batch,
    entriesPerSec: entries / elapsed,
    batchesPerSec: latencies.length / elapsed,
    p50ms: percentile(latencies, 0.5),
    p99ms: percentile(latencies, 0.99),
  };
}

/** Raw disk: 256-byte appends to a file, each followed by fdatasync. */
async function fsyncRate(dir: string, seconds: number, bytes: number): Promise<number> {
  const fh = await open(join(dir, "fsync-probe"), "w");
  try {
    const buf = Buffer.alloc(bytes, 7);
    let n = 0;
    let pos = 0;
    const start = nowMs();
    while (nowMs() - start < seconds * 1000 || n < 5) {
      await fh.write(buf, 0, bytes, pos);
      pos += bytes;
      await fh.datasync();
      n++;
    }
    return n / ((nowMs() - start) / 1000);
  } finally {
    await fh.close();
  }
}

const fmt = (n: number, width: number, digits = 0): string =>
  n
    .toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits })
    .padStart(width);

/**
 * Runs the log benchmark, prints a table per backend, and returns the goal line
 * `file log entries/s at batch 1024: N`.
 */
export async function runLogBench(options: LogBenchOptions = {}): Promise<string[]> {
  const seconds = options.seconds ?? 2;
  const backends = options.backends ?? ["memory", "file", "lmdb"];
  const batchSizes = options.batchSizes ?? [1, 64, 1024];
  const entryBytes = options.entryBytes ?? 256;
  const print = options.print ?? ((line: string) => console.log(line));
  const root = options.dir ?? (await mkdtemp(join(tmpdir(), "dengine-log-bench-")));
  const data = new Uint8Array(entryBytes).map((_, i) => (i * 31) & 0xff);
  const results = new Map<LogBenchBackend, Row[]>();
  try {
    const probe = await fsyncRate(root, Math.min(seconds, 1), entryBytes);
    print(`disk: ${fmt(probe, 0)} fdatasyncs/s (${entryBytes}-byte appends to one file, ${root})`);
    for (const backend of backends) {
      const stores = await openBackend(backend, join(root, backend));
      const rows: Row[] = [];
      try {
        for (const batch of batchSizes) rows.push(await measure(stores, batch, seconds, data));
      } finally {
        await stores.close();
      }
      results.set(backend, rows);
      print("");
      print(
        `${backend} log: durable appends of ${entryBytes}-byte entries, one awaited append per batch`,
      );
      print(
        `${"batch".padStart(6)} ${"entries/s".padStart(12)} ${"batches/s".padStart(10)} ${"p50 ms".padStart(8)} ${"p99 ms".padStart(8)}`,
      );
      for (const r of rows) {
        print(
          `${fmt(r.batch, 6)} ${fmt(r.entriesPerSec, 12)} ${fmt(r.batchesPerSec, 10)} ${fmt(r.p50ms, 8, 2)} ${fmt(r.p99ms, 8, 2)}`,
        );
      }
    }
  } finally {
    if (options.dir === undefined) await rm(root, { recursive: true, force: true });
  }
  const file1024 = results.get("file")?.find((r) => r.batch === 1024);
  return file1024
    ? [`file log entries/s at batch 1024: ${Math.round(file1024.entriesPerSec)}`]
    : [];
}
