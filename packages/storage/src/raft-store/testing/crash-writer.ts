// The child process of the crash tests (crash.test.ts): it opens a file or LMDB store and writes
// under load until it is killed, announcing each write before it starts and each write once
// durable, one line each on stdout (synchronous for pipes on Linux, so a line printed is a line
// the parent gets, however the process dies):
//
//   open <first> <last> <hardStateTerm>
//   I <seq> append <from> <to> <term>      an append (replacing entries from <from> on) starts
//   I <seq> compact <index>                a compaction starts
//   I <seq> hs <term>                      a hard-state save starts
//   D <seq>                                that write is durable
//
// Usage: node crash-writer.js <file|lmdb> <dir> <seed>
import { type Rng, seededRng } from "@d-engine/core";
import { openLmdbStores } from "../lmdb/index.js";
import type { RaftStores } from "../stores.js";
import { openTestFileStores } from "./backends.js";
import { entriesFor } from "./entries.js";

/** Small segments, so that kills land around segment rolls and compactions delete files. */
export const CRASH_SEGMENT_BYTES = 32 * 1024;

export function openForCrashTest(backend: string, dir: string): Promise<RaftStores> {
  if (backend === "file" || backend === "file-inline") {
    // file-inline: every append written in place (as a follower writes its small ones).
    return openTestFileStores(
      dir,
      { segmentBytes: CRASH_SEGMENT_BYTES },
      backend === "file-inline",
    );
  }
  if (backend === "lmdb") return openLmdbStores(dir);
  throw new Error(`unknown backend ${backend}`);
}

async function main(): Promise<void> {
  const [backend, dir, seedArg] = process.argv.slice(2);
  if (!backend || !dir || !seedArg)
    throw new Error("usage: crash-writer <file|file-inline|lmdb> <dir> <seed>");
  const rng: Rng = seededRng(Number(seedArg));
  const stores = await openForCrashTest(backend, dir);
  const { log, hardState } = stores;
  const say = (line: string): void => {
    process.stdout.write(`${line}\n`);
  };
  say(`open ${log.firstIndex()} ${log.lastIndex()} ${hardState.load().term}`);
  // Each run is a new leader: a higher term than anything in the log or the hard state.
  let term = Math.max(log.term(log.lastIndex()), hardState.load().term) + 1;
  const depth = 1 + rng.nextInt(8);
  let seq = 0;
  let inFlight = 0;
  let wake: (() => void) | undefined;
  const track = (n: number, p: Promise<void>): void => {
    inFlight++;
    p.then(
      () => {
        say(`D ${n}`);
        inFlight--;
        wake?.();
      },
      (e: unknown) => {
        process.stderr.write(`write ${n} failed: ${String(e)}\n`);
        process.exit(3);
      },
    );
  };
  for (;;) {
    while (inFlight >= depth) {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
    const n = ++seq;
    const r = rng.nextInt(100);
    const first = log.firstIndex();
    const last = log.lastIndex();
    if (r < 6 && last >= first) {
      // A new leader overwrites the tail: truncation and append in one.
      term++;
      const from = Math.max(first, last - rng.nextInt(12));
      const to = from + rng.nextInt(20);
      say(`I ${n} append ${from} ${to} ${term}`);
      track(n, log.append(entriesFor(from, to, term)));
    } else if (r < 9 && last - first > 50) {
      const index = first + rng.nextInt(last - first - 20);
      say(`I ${n} compact ${index}`);
      track(n, log.compact(index));
    } else if (r < 14) {
      say(`I ${n} hs ${term}`);
      track(n, hardState.save({ term, vote: 1, commit: 0 }));
    } else {
      const count = [1, 1, 4, 16, 64, 200][rng.nextInt(6)] as number;
      say(`I ${n} append ${last + 1} ${last + count} ${term}`);
      track(n, log.append(entriesFor(last + 1, last + count, term)));
    }
  }
}

// Run only as a script, not when the crash test imports openForCrashTest.
if (process.argv[1]?.endsWith("crash-writer.js")) {
  main().catch((e: unknown) => {
    process.stderr.write(`crash-writer: ${String(e)}\n`);
    process.exit(2);
  });
}
