// The child process of the KV crash test (kv/crash.test.ts): a tiny Raft-like apply loop over the
// real stores. It appends batches of KV commands (crash-commands.ts) to a durable log store, and
// applies each batch to a durable KV state machine once the log reports it durable, as a node
// applies committed entries. The file state machine is checkpointed now and then and the log
// compacted up to the checkpoint; with the LMDB state machine the log is compacted up to the
// applied index. Everything is reported on stdout, one line each (synchronous for pipes on
// Linux, so a line printed is a line the parent gets, however the process dies):
//
//   open <first> <last> <applied> <term>   opened: the log's range, the state machine's applied
//                                          index (where replay starts) and this run's term
//   durable <lastIndex>                    the batch ending at lastIndex is durable in the log
//   applied <index>                        the state machine applied up to index (after replay on
//                                          open, or a batch; durable at once with LMDB)
//   checkpoint <index>                     a snapshot file of index is durable (file state machine)
//   compacted <index>                      a compaction of the log up to index is durable
//
// Usage: node crash-applier.js <file|lmdb log> <file|lmdb state machine> <dir> <seed>
import { join } from "node:path";
import { type Entry, type Rng, seededRng } from "@d-engine/core";
import type { LogStore } from "../../raft-store/log-store.js";
import type { RaftStores } from "../../raft-store/stores.js";
import { openForCrashTest } from "../../raft-store/testing/crash-writer.js";
import { FileKv, openFileKv } from "../file/file-kv.js";
import { openLmdbKv } from "../lmdb/lmdb-kv.js";
import type { KvStateMachine } from "../state-machine.js";
import { CRASH_KV_OPTIONS, crashEntry } from "./crash-commands.js";

/** Opens the log store of a crash-test directory. */
export function openCrashLog(backend: string, dir: string): Promise<RaftStores> {
  return openForCrashTest(backend, join(dir, "log"));
}

/** Opens the state machine of a crash-test directory. */
export async function openCrashKv(backend: string, dir: string): Promise<KvStateMachine> {
  if (backend === "file") return openFileKv({ ...CRASH_KV_OPTIONS, dir: join(dir, "kv") });
  if (backend === "lmdb") return openLmdbKv({ ...CRASH_KV_OPTIONS, path: join(dir, "kv") });
  throw new Error(`unknown state machine backend ${backend}`);
}

/** Applies the log's entries above the state machine's applied index, as a node does on start. */
export function replayLog(log: LogStore, sm: KvStateMachine): number {
  const from = sm.appliedIndex() + 1;
  if (from > log.lastIndex()) return 0;
  const entries = log.entries(from, log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  sm.applyBatch(entries.map((e) => ({ index: e.index, command: e.data })));
  return entries.length;
}

async function main(): Promise<void> {
  const [logBackend, smBackend, dir, seedArg] = process.argv.slice(2);
  if (!logBackend || !smBackend || !dir || !seedArg) {
    throw new Error("usage: crash-applier <file|lmdb> <file|lmdb> <dir> <seed>");
  }
  const seed = Number(seedArg);
  const rng: Rng = seededRng(seed);
  const stores = await openCrashLog(logBackend, dir);
  const sm = await openCrashKv(smBackend, dir);
  const { log } = stores;
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  // Each run is a new leader: a higher term than anything in the log.
  const term = log.term(log.lastIndex()) + 1;
  say(`open ${log.firstIndex()} ${log.lastIndex()} ${sm.appliedIndex()} ${term}`);
  if (replayLog(log, sm) > 0) say(`applied ${sm.appliedIndex()}`);

  const fail = (what: string) => (e: unknown) => {
    process.stderr.write(`${what} failed: ${String(e)}\n`);
    process.exit(3);
  };
  /** Appends whose batches are not durable yet (pipelined, so group commit merges them). */
  const depth = 1 + rng.nextInt(4);
  let inFlight = 0;
  let wake: (() => void) | undefined;
  let housekeeping = false;
  const compact = (index: number): void => {
    // Compacting nothing (already compacted) is a no-op; never past what the state machine holds.
    if (index < log.firstIndex()) return;
    log.compact(index).then(() => say(`compacted ${index}`), fail(`compact ${index}`));
  };
  const afterApply = (): void => {
    if (housekeeping || rng.nextInt(8) !== 0) return;
    if (sm instanceof FileKv) {
      // A snapshot file first; only once it is durable may the log forget what it covers.
      housekeeping = true;
      sm.checkpoint().then((c) => {
        say(`checkpoint ${c.index}`);
        housekeeping = false;
        compact(c.index - rng.nextInt(20));
      }, fail("checkpoint"));
    } else compact(sm.appliedIndex() - rng.nextInt(50));
  };

  let next = log.lastIndex() + 1;
  for (;;) {
    while (inFlight >= depth) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    const count = [1, 1, 2, 4, 16, 48][rng.nextInt(6)] as number;
    const batch: Entry[] = [];
    for (let i = 0; i < count; i++) batch.push(crashEntry(seed, next + i, term));
    next += count;
    inFlight++;
    // Appends resolve in call order, so batches are applied in log order.
    log.append(batch).then(() => {
      const last = (batch[batch.length - 1] as Entry).index;
      say(`durable ${last}`);
      sm.applyBatch(batch.map((e) => ({ index: e.index, command: e.data })));
      say(`applied ${last}`);
      inFlight--;
      afterApply();
      wake?.();
    }, fail("append"));
  }
}

// Run only as a script, not when the crash test imports the openers.
if (process.argv[1]?.endsWith("crash-applier.js")) {
  main().catch((e: unknown) => {
    process.stderr.write(`crash-applier: ${String(e)}\n`);
    process.exit(2);
  });
}
