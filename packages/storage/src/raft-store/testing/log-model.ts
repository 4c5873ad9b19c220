// A plain reference model of a Raft log (an array of terms after a compaction point) and a
// seeded random command sequence. The conformance suite runs the sequence against a backend and
// the model and compares every answer; the cross-backend test compares the backends' transcripts.
import { type Entry, entrySize, isRaftError, type Rng } from "@d-engine/core";
import { isStorageError } from "../errors.js";
import type { LogStore } from "../log-store.js";
import { entriesFor, entryFor, entryProblem } from "./entries.js";

export class LogModel {
  snapIndex = 0;
  snapTerm = 0;
  terms: number[] = [];

  first(): number {
    return this.snapIndex + 1;
  }

  last(): number {
    return this.snapIndex + this.terms.length;
  }

  term(i: number): number | string {
    if (i === this.snapIndex) return this.snapTerm;
    if (i < this.snapIndex) return "compacted";
    if (i > this.last()) return "unavailable";
    return this.terms[i - this.snapIndex - 1] as number;
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] | string {
    if (lo < this.first()) return "compacted";
    if (hi > this.last() + 1) return "unavailable";
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi; i++) {
      const e = entryFor(i, this.terms[i - this.snapIndex - 1] as number);
      size += entrySize(e);
      if (size > maxBytes && out.length > 0) break;
      out.push(e);
    }
    return out;
  }

  append(from: number, to: number, term: number): string | undefined {
    if (from > this.last() + 1) return "invalid-argument";
    const start = Math.max(from, this.first());
    if (start > to) return undefined;
    this.terms.length = start - this.snapIndex - 1;
    for (let i = start; i <= to; i++) this.terms.push(term);
    return undefined;
  }

  truncate(from: number): string | undefined {
    if (from < this.first()) return "invalid-argument";
    if (from <= this.last()) this.terms.length = from - this.snapIndex - 1;
    return undefined;
  }

  compact(i: number): string | undefined {
    if (i <= this.snapIndex) return undefined;
    if (i > this.last()) return "invalid-argument";
    this.snapTerm = this.term(i) as number;
    this.terms = this.terms.slice(i - this.snapIndex);
    this.snapIndex = i;
    return undefined;
  }

  reset(i: number, term: number): void {
    this.snapIndex = i;
    this.snapTerm = term;
    this.terms = [];
  }
}

/** What a call gave: a value rendered as text, or the error's code. */
function outcome(f: () => unknown): string {
  try {
    return render(f());
  } catch (e) {
    if (isRaftError(e) || isStorageError(e)) return e.code;
    throw e;
  }
}

function render(v: unknown): string {
  if (Array.isArray(v)) {
    // A "!" marks an entry whose content is not what entryFor() made: damaged or misplaced.
    return (v as Entry[])
      .map((e) => `${e.index}/${e.term}/${e.type}/${e.data.length}${entryProblem(e) ? "!" : ""}`)
      .join(",");
  }
  return String(v);
}

export interface CommandRun {
  /** One line per command, with what the store answered to reads. */
  readonly transcript: string[];
  /** The first command where the store and the model disagreed. */
  readonly mismatch?: string;
}

/**
 * Runs `steps` seeded random commands against a store and the model. `restart` closes and
 * reopens the store (everything awaited must survive). Writes are left pending until the next
 * sync or restart, so several go to disk together (group commit); reads see them at once.
 */
export async function runRandomCommands(
  rng: Rng,
  steps: number,
  open: () => Promise<LogStore>,
  close: (log: LogStore) => Promise<void>,
): Promise<CommandRun> {
  const model = new LogModel();
  let log = await open();
  let pending: Promise<string | undefined>[] = [];
  const transcript: string[] = [];
  let maxTerm = 1;
  const pick = (lo: number, hi: number): number => lo + rng.nextInt(Math.max(1, hi - lo + 1));
  /** Waits for the pending writes; returns the first whose outcome differed from the model's. */
  const settle = async (): Promise<string | undefined> => {
    const results = await Promise.all(pending);
    pending = [];
    return results.find((r) => r !== undefined);
  };
  const write = (line: string, want: string | undefined, f: () => Promise<void>): void => {
    transcript.push(line);
    const expected = want ?? "ok";
    pending.push(
      f()
        .then(
          () => "ok",
          (e: unknown) => (isStorageError(e) ? e.code : `error ${String(e)}`),
        )
        .then((got) => (got === expected ? undefined : `${line}: store ${got}, model ${expected}`)),
    );
  };
  try {
    for (let step = 0; step < steps; step++) {
      const first = model.first();
      const last = model.last();
      const r = rng.nextInt(100);
      let line: string;
      let got: string;
      let expected: string;
      if (r < 30) {
        const from = pick(Math.max(1, first - 2), last + (rng.nextInt(10) === 0 ? 3 : 1));
        const to = from + rng.nextInt(20);
        if (rng.nextInt(4) === 0) maxTerm++;
        const term = maxTerm;
        write(`append ${from}..${to}@${term}`, model.append(from, to, term), () =>
          log.append(entriesFor(from, to, term)),
        );
        continue;
      } else if (r < 36) {
        const from = pick(first - 1, last + 2);
        write(`truncate ${from}`, model.truncate(from), () => log.truncateSuffix(from));
        continue;
      } else if (r < 42) {
        const i = pick(first - 2, last + 1);
        write(`compact ${i}`, model.compact(i), () => log.compact(i));
        continue;
      } else if (r < 45) {
        const i = pick(Math.max(first - 1, last - 3), last + 8);
        const term = ++maxTerm;
        model.reset(i, term);
        write(`reset ${i}@${term}`, undefined, () => log.reset(i, term));
        continue;
      } else if (r < 50) {
        line = rng.nextInt(2) === 0 ? "restart" : "sync";
        if (line === "sync") pending.push(log.sync().then(() => undefined));
        const failed = await settle();
        if (failed) return { transcript, mismatch: failed };
        if (line === "restart") {
          await close(log);
          log = await open();
        }
        transcript.push(line);
        continue;
      } else if (r < 70) {
        const i = pick(first - 2, last + 2);
        line = `term ${i}`;
        got = outcome(() => log.term(i));
        expected = render(model.term(i));
      } else if (r < 75) {
        line = "bounds";
        got = `${log.firstIndex()}..${log.lastIndex()}`;
        expected = `${first}..${last}`;
      } else {
        const lo = pick(first - 1, last + 1);
        const hi = pick(lo, last + 2);
        const maxBytes = [0, 100, 1000, 10_000, Number.MAX_SAFE_INTEGER][rng.nextInt(5)] as number;
        line = `entries [${lo}, ${hi}) max ${maxBytes}`;
        got = outcome(() => log.entries(lo, hi, maxBytes));
        expected = render(model.entries(lo, hi, maxBytes));
      }
      transcript.push(`${line} -> ${got}`);
      if (got !== expected)
        return { transcript, mismatch: `${line}: store ${got}, model ${expected}` };
    }
    const failed = await settle();
    return failed ? { transcript, mismatch: failed } : { transcript };
  } finally {
    await Promise.allSettled(pending);
    await close(log);
  }
}
