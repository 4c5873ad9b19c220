// Throughput of the pure core: a three-node cluster in one process, messages delivered in memory,
// MemoryStorage for the disk. It measures what the state machine itself costs per committed
// entry (no fsync, no network, no encoding), so a runtime knows the ceiling the core puts on it.
//
//   node dist-bench/cluster-bench.js [--entries N] [--batch N] [--runs N] [--seed N]
//
// Each loop turn proposes `batch` 64-byte entries on the leader, then moves Readies and messages
// until the batch is committed and applied on every node. Storage is compacted as it goes so
// memory stays bounded however many entries are run.
import { parseArgs } from "node:util";
import { type NodeId, RaftError } from "@d-engine/core";
import { MemoryCluster } from "@d-engine/core/testing";

const PAYLOAD_BYTES = 64;
/** Compact a node's storage once this many applied entries sit in it. */
const COMPACT_EVERY = 65_536;

interface Options {
  readonly entries: number;
  readonly batch: number;
  readonly runs: number;
  readonly seed: number;
}

interface RunResult {
  readonly entries: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly heapMB: number;
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll("_", "").replaceAll(",", ""));
  if (!Number.isSafeInteger(n) || n <= 0) {
    throw new Error(`--${name} needs a positive integer, got "${value}"`);
  }
  return n;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      entries: { type: "string" },
      batch: { type: "string" },
      runs: { type: "string" },
      seed: { type: "string" },
    },
    strict: true,
  });
  return {
    entries: positiveInt("entries", values.entries, 1_000_000),
    batch: positiveInt("batch", values.batch, 1024),
    runs: positiveInt("runs", values.runs, 3),
    seed: positiveInt("seed", values.seed, 1),
  };
}

function runOnce(opts: Options, run: number): RunResult {
  // Only the leader counts applied entries: every node applies the same ones, and the loop below
  // does not return before the followers have caught up too.
  let applied = 0;
  let leader: NodeId = 0;
  const cluster = new MemoryCluster({
    voters: [1, 2, 3],
    seed: opts.seed + run,
    recordApplied: false,
    events: {
      onApply(id) {
        if (id === leader) applied++;
      },
    },
  });
  leader = cluster.electLeader();
  const lead = cluster.node(leader);
  const payload = new Uint8Array(PAYLOAD_BYTES);

  const start = performance.now();
  let proposed = 0;
  while (proposed < opts.entries) {
    const n = Math.min(opts.batch, opts.entries - proposed);
    for (let i = 0; i < n; i++) {
      // A distinct payload per entry, as clients would send, stamped with its sequence number.
      const data = payload.slice();
      data[0] = proposed & 0xff;
      data[1] = (proposed >>> 8) & 0xff;
      data[2] = (proposed >>> 16) & 0xff;
      lead.raw.propose(data);
      proposed++;
    }
    cluster.stabilize();
    if (cluster.leader() !== leader) {
      throw new Error(`leadership moved from ${leader} during the benchmark`);
    }
    compact(cluster);
  }
  const seconds = (performance.now() - start) / 1000;
  if (applied !== opts.entries) {
    throw new Error(`expected ${opts.entries} entries applied, saw ${applied}`);
  }
  for (const n of cluster.nodes.values()) {
    const st = n.raw.status();
    if (st.applied !== lead.raw.status().applied) {
      throw new Error(`node ${n.id} applied ${st.applied}, leader ${lead.raw.status().applied}`);
    }
  }
  return {
    entries: opts.entries,
    seconds,
    perSecond: opts.entries / seconds,
    heapMB: process.memoryUsage().heapUsed / (1 << 20),
  };
}

/** Drops applied entries from every node's storage, as a runtime does after a snapshot. */
function compact(cluster: MemoryCluster): void {
  for (const n of cluster.nodes.values()) {
    const applied = n.raw.raft.log.applied;
    if (applied - n.storage.firstIndex() < COMPACT_EVERY) continue;
    try {
      n.storage.compact(applied);
    } catch (e) {
      // The applied index is always stored here; anything else is a bug worth seeing.
      if (!(e instanceof RaftError)) throw e;
      throw new Error(`compaction of node ${n.id} failed: ${e.message}`);
    }
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1
    ? (s[mid] as number)
    : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

function main(): void {
  let opts: Options;
  try {
    opts = options();
  } catch (e) {
    console.error(`cluster-bench: ${(e as Error).message}`);
    console.error("usage: cluster-bench [--entries N] [--batch N] [--runs N] [--seed N]");
    process.exit(2);
  }
  console.log(
    `three-node core cluster in memory: ${opts.entries} entries of ${PAYLOAD_BYTES} bytes, ` +
      `batch ${opts.batch}, ${opts.runs} run(s), seed ${opts.seed}`,
  );
  const header = ["run", "entries", "seconds", "committed entries/s", "heap used MB"];
  console.log(header.join("\t"));
  const results: RunResult[] = [];
  for (let run = 1; run <= opts.runs; run++) {
    const r = runOnce(opts, run);
    results.push(r);
    console.log(
      [run, r.entries, r.seconds.toFixed(3), Math.round(r.perSecond), r.heapMB.toFixed(1)].join(
        "\t",
      ),
    );
  }
  console.log(`core committed entries/s: ${Math.round(median(results.map((r) => r.perSecond)))}`);
}

main();
