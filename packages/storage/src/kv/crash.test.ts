// Crash test of the state machine over the log: a child process (testing/crash-applier.ts, run
// from dist/) appends batches of KV commands to a durable log store, applies each batch to a
// durable state machine once the log reports it durable, checkpoints and compacts as a node does,
// and is killed with SIGKILL after a seeded number of reports. After each kill the log and the
// state machine are reopened here, on the same directory, and must agree with the reports: every
// batch reported durable is in the log, intact; the state machine's restart point lies inside
// the log (nothing it still needs was compacted away) and not past its end; and once the log
// above it is replayed, the state equals a fresh memory state machine's that applied the whole
// durable log from the start. Then the child runs again on the same directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Entry, seededRng } from "@d-engine/core";
import { beforeAll, describe, it } from "vitest";
import { ensureBuilt, runUntilKilled } from "../raft-store/testing/child-process.js";
import { bytesEqual, fromUtf8 } from "./bytes.js";
import { openMemoryKv } from "./memory/memory-kv.js";
import { decodeSnapshot } from "./snapshot-codec.js";
import type { KvStateMachine } from "./state-machine.js";
import { openCrashKv, openCrashLog, replayLog } from "./testing/crash-applier.js";
import { CRASH_KV_OPTIONS, crashEntry } from "./testing/crash-commands.js";

const KILLS = 8;
/** A child that has not produced its reports by then is stuck: the test fails. */
const CHILD_DEADLINE_MS = 20_000;
let applier = "";

/** What one run of the child reported. */
interface Reports {
  /** first, last, applied, term */
  open: readonly number[];
  /** The highest index of each kind of report (0: none). */
  durable: number;
  applied: number;
  checkpoint: number;
  compacted: number;
}

/**
 * Runs the child until it has made `count` reports after opening, then SIGKILLs it. With
 * `untilCompacted`, not before it has also reported a durable compaction: whether a compaction
 * finishes within a few reports is a race between the checkpoint's fsyncs and the appends', and
 * the test must see at least one (the last run waits for it, the others die where the seed says).
 */
async function runChild(
  logBackend: string,
  smBackend: string,
  dir: string,
  seed: number,
  count: number,
  untilCompacted = false,
): Promise<Reports> {
  const r: Reports = { open: [], durable: 0, applied: 0, checkpoint: 0, compacted: 0 };
  let seen = 0;
  await runUntilKilled(
    applier,
    [logBackend, smBackend, dir, String(seed)],
    (line) => {
      const [kind, ...rest] = line.split(" ");
      const n = rest.map(Number);
      if (kind === "open") r.open = n;
      else if (
        kind === "durable" ||
        kind === "applied" ||
        kind === "checkpoint" ||
        kind === "compacted"
      ) {
        r[kind] = Math.max(r[kind], n[0] as number);
        seen++;
      } else throw new Error(`unexpected line from the child: ${line}`);
      return seen >= count && (!untilCompacted || r.compacted > 0);
    },
    CHILD_DEADLINE_MS,
  );
  return r;
}

/** A run of the child: it wrote the entries from `from` on (until the next run's `from`). */
interface Run {
  readonly from: number;
  readonly seed: number;
  readonly term: number;
}

/** The entry `runs` left at `index`: the last run that started at or below it wrote it. */
function expectedEntry(runs: readonly Run[], index: number): Entry {
  for (let i = runs.length - 1; i >= 0; i--) {
    const run = runs[i] as Run;
    if (run.from <= index) return crashEntry(run.seed, index, run.term);
  }
  throw new Error(`no run wrote index ${index}`);
}

/** The observable state: every key at the current revision, revision, leases with their keys. */
function stateOf(sm: KvStateMachine): unknown {
  const all = sm.range({ key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) });
  return {
    applied: sm.appliedIndex(),
    revision: sm.revision(),
    compacted: sm.compactRevision(),
    logTimeMs: sm.logTimeMs(),
    kvs: all.kvs.map((kv) => ({ ...kv, key: fromUtf8(kv.key), value: fromUtf8(kv.value) })),
    leases: sm.leases().map((l) => ({
      ...l,
      keys: sm.leaseTimeToLive(l.id, { keys: true }).keys.map(fromUtf8),
    })),
  };
}

const COMBOS = [
  { log: "file", sm: "lmdb", seed: 4001 },
  { log: "file", sm: "file", seed: 4002 },
  { log: "lmdb", sm: "lmdb", seed: 4003 },
  { log: "lmdb", sm: "file", seed: 4004 },
] as const;

describe("KV state machine over the log, SIGKILL at seeded moments", () => {
  beforeAll(() => {
    applier = ensureBuilt("dist/kv/testing/crash-applier.js", ["src/kv", "src/raft-store"]);
  }, 120_000);

  for (const { log: logBackend, sm: smBackend, seed } of COMBOS) {
    // Concurrent: while one combination's child starts up (mostly module loading) or waits for
    // fsyncs, another's state is being checked.
    const title = `${logBackend} log, ${smBackend} state machine: state = replay of the durable log, ${KILLS} kills (seed ${seed})`;
    it.concurrent(title, async ({ expect }) => {
      const rng = seededRng(seed);
      const dir = await mkdtemp(join(tmpdir(), `dengine-kv-crash-${logBackend}-${smBackend}-`));
      const runs: Run[] = [];
      /** The durable log as the test knows it: entries 1..n, checked against the store. */
      const durableLog: Entry[] = [];
      let expectedOpen = [1, 0, 0, 1];
      let replayed = 0;
      let maxCompacted = 0;
      try {
        for (let kill = 0; kill < KILLS; kill++) {
          const runSeed = seed * 1000 + kill;
          const ctx = `kill ${kill} (seed ${seed}, child seed ${runSeed})`;
          const last = kill === KILLS - 1;
          const r = await runChild(logBackend, smBackend, dir, runSeed, 1 + rng.nextInt(40), last);
          expect(r.open, `${ctx}: the child opened what the test left`).toEqual(expectedOpen);
          runs.push({ from: (r.open[1] as number) + 1, seed: runSeed, term: r.open[3] as number });

          const stores = await openCrashLog(logBackend, dir);
          const sm = await openCrashKv(smBackend, dir);
          try {
            const { log } = stores;
            const first = log.firstIndex();
            const last = log.lastIndex();
            const applied = sm.appliedIndex();
            expect(last, `${ctx}: a batch reported durable is missing`).toBeGreaterThanOrEqual(
              Math.max(r.durable, durableLog.length),
            );
            expect(first - 1, `${ctx}: a durable compaction is undone`).toBeGreaterThanOrEqual(
              r.compacted,
            );
            expect(applied, `${ctx}: state machine ahead of the log`).toBeLessThanOrEqual(last);
            expect(applied, `${ctx}: log compacted past the state machine`).toBeGreaterThanOrEqual(
              first - 1,
            );
            // LMDB: every batch reported applied is durable; file: every checkpoint is.
            expect(applied, `${ctx}: durable state lost`).toBeGreaterThanOrEqual(
              smBackend === "lmdb" ? r.applied : r.checkpoint,
            );

            // Every entry still in the log is exactly what the run that wrote it wrote.
            for (let i = durableLog.length + 1; i <= last; i++) {
              durableLog.push(expectedEntry(runs, i));
            }
            for (const e of log.entries(first, last + 1, Number.MAX_SAFE_INTEGER)) {
              const want = durableLog[e.index - 1] as Entry;
              const same = e.term === want.term && e.type === want.type;
              expect(same && bytesEqual(e.data, want.data), `${ctx}: entry ${e.index}`).toBe(true);
            }

            if (replayLog(log, sm) > 0) replayed++;
            const ref = openMemoryKv(CRASH_KV_OPTIONS);
            ref.applyBatch(durableLog.map((e) => ({ index: e.index, command: e.data })));
            expect(stateOf(sm), `${ctx}: state after replay`).toEqual(stateOf(ref));
            // The snapshot also covers history, compaction and sessions.
            const [got, want] = [sm.snapshotBytes(), ref.snapshotBytes()];
            if (!bytesEqual(got, want)) {
              // Decoded, for a readable difference.
              expect(await decodeSnapshot(got, "recovered"), `${ctx}: snapshot`).toEqual(
                await decodeSnapshot(want, "reference"),
              );
            }
            expect(bytesEqual(got, want), `${ctx}: snapshot bytes after replay`).toBe(true);
            await ref.close();

            maxCompacted = Math.max(maxCompacted, first - 1);
            // The replay into LMDB is durable; the file backend restarts from its snapshot.
            expectedOpen = [first, last, smBackend === "lmdb" ? last : applied, log.term(last) + 1];
          } finally {
            await sm.close();
            await stores.close();
          }
        }
        // The runs did real work: a long log, compacted, and restarts that needed a replay.
        expect(durableLog.length).toBeGreaterThan(300);
        expect(maxCompacted).toBeGreaterThan(0);
        expect(replayed).toBeGreaterThan(0);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 120_000);
  }
});
