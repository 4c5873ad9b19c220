// Crash tests: a child process (testing/crash-writer.ts, run from dist/) writes to a file or LMDB
// store under load and is killed with SIGKILL after a seeded number of durable reports. After
// each kill the store is reopened here and must hold exactly the writes reported durable, plus
// possibly some of the writes that were in flight (in order, the last one possibly cut short),
// with every entry intact. Then the child is started again on the same directory.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRng } from "@d-engine/core";
import { beforeAll, describe, expect, it } from "vitest";
import type { LogStore } from "./log-store.js";
import { ensureBuilt, runUntilKilled } from "./testing/child-process.js";
import { openForCrashTest } from "./testing/crash-writer.js";
import { entryProblem } from "./testing/entries.js";
import { LogModel } from "./testing/log-model.js";

const KILLS_PER_BACKEND = 20;
/** A child that has not produced its reports by then is stuck: the test fails. */
const CHILD_DEADLINE_MS = 30_000;
let writer = "";

type Op =
  | { kind: "append"; from: number; to: number; term: number }
  | { kind: "compact"; index: number }
  | { kind: "hs"; term: number };

interface ChildRun {
  readonly open: string;
  /** Writes announced, in order. */
  readonly ops: Map<number, Op>;
  readonly durable: Set<number>;
}

/** Runs the writer until `reports` writes are reported durable, then SIGKILLs it. */
async function runChild(
  backend: string,
  dir: string,
  seed: number,
  reports: number,
): Promise<ChildRun> {
  const ops = new Map<number, Op>();
  const durable = new Set<number>();
  let open = "";
  await runUntilKilled(
    writer,
    [backend, dir, String(seed)],
    (line) => {
      const w = line.split(" ");
      if (w[0] === "open") open = line;
      else if (w[0] === "D") durable.add(Number(w[1]));
      else if (w[0] === "I") {
        const seq = Number(w[1]);
        const n = w.slice(3).map(Number);
        if (w[2] === "append") {
          ops.set(seq, {
            kind: "append",
            from: n[0] as number,
            to: n[1] as number,
            term: n[2] as number,
          });
        } else if (w[2] === "compact") ops.set(seq, { kind: "compact", index: n[0] as number });
        else ops.set(seq, { kind: "hs", term: n[0] as number });
      }
      return durable.size >= reports;
    },
    CHILD_DEADLINE_MS,
  );
  return { open, ops, durable };
}

function clone(m: LogModel): LogModel {
  const c = new LogModel();
  c.snapIndex = m.snapIndex;
  c.snapTerm = m.snapTerm;
  c.terms = [...m.terms];
  return c;
}

function applyOp(m: LogModel, op: Op): void {
  if (op.kind === "append") m.append(op.from, op.to, op.term);
  else if (op.kind === "compact") m.compact(op.index);
}

const describeState = (m: LogModel): string =>
  `${m.snapIndex}@${m.snapTerm} | ${m.terms.map((t, i) => `${m.snapIndex + 1 + i}:${t}`).join(" ")}`;

/** The recovered log as a model, after checking every entry's content. */
function recovered(log: LogStore): LogModel {
  const m = new LogModel();
  m.snapIndex = log.firstIndex() - 1;
  m.snapTerm = log.term(m.snapIndex);
  const ents = log.entries(log.firstIndex(), log.lastIndex() + 1, Number.MAX_SAFE_INTEGER);
  for (const e of ents) {
    const problem = entryProblem(e);
    if (problem) throw new Error(`recovered a damaged entry: ${problem}`);
  }
  m.terms = ents.map((e) => e.term);
  return m;
}

/**
 * The states the log may be in after a kill: every write reported durable applied, then any
 * number of the later writes, the last of them possibly cut short after its truncation (the
 * file backend can tear a group's write; LMDB applies whole groups).
 */
function allowedStates(base: LogModel, run: ChildRun): LogModel[] {
  const seqs = [...run.ops.keys()]
    .filter((s) => run.ops.get(s)?.kind !== "hs")
    .sort((a, b) => a - b);
  const lastDurable = Math.max(0, ...seqs.filter((s) => run.durable.has(s)));
  const m = clone(base);
  for (const s of seqs) if (s <= lastDurable) applyOp(m, run.ops.get(s) as Op);
  const out = [clone(m)];
  for (const s of seqs) {
    if (s <= lastDurable) continue;
    const op = run.ops.get(s) as Op;
    if (op.kind === "append") {
      const start = Math.max(op.from, m.first());
      for (let k = 0; start + k <= op.to; k++) {
        const p = clone(m);
        if (start <= p.last()) p.truncate(start);
        if (k > 0) p.append(start, start + k - 1, op.term);
        out.push(p);
      }
    }
    applyOp(m, op);
    out.push(clone(m));
  }
  return out;
}

describe("crash recovery (SIGKILL at seeded moments)", () => {
  beforeAll(() => {
    writer = ensureBuilt("dist/raft-store/testing/crash-writer.js", ["src/raft-store"]);
  }, 120_000);

  for (const [backend, seed] of [
    ["file", 1001],
    ["file-inline", 3003],
    ["lmdb", 2002],
  ] as const) {
    it(`${backend}: keeps every write reported durable, ${KILLS_PER_BACKEND} kills (seed ${seed})`, async () => {
      const rng = seededRng(seed);
      const dir = await mkdtemp(join(tmpdir(), `dengine-crash-${backend}-`));
      try {
        let base = new LogModel();
        let hsTerm = 0;
        let sawInFlight = 0;
        for (let i = 0; i < KILLS_PER_BACKEND; i++) {
          const reports = 1 + rng.nextInt(40);
          const run = await runChild(backend, dir, seed * 1000 + i, reports);
          expect(run.open).toBe(`open ${base.first()} ${base.last()} ${hsTerm}`);
          const stores = await openForCrashTest(backend, dir);
          try {
            const got = recovered(stores.log);
            const allowed = allowedStates(base, run);
            const ok = allowed.some(
              (s) =>
                s.snapIndex === got.snapIndex &&
                s.snapTerm === got.snapTerm &&
                s.terms.length === got.terms.length &&
                s.terms.every((t, k) => got.terms[k] === t),
            );
            expect(
              ok,
              `kill ${i} (seed ${seed}): recovered ${describeState(got)}\nallowed first: ${describeState(allowed[0] as LogModel)}`,
            ).toBe(true);
            if (run.ops.size > run.durable.size) sawInFlight++;
            // Hard state: at least the newest save reported durable, at most the newest started.
            const hs = [...run.ops.entries()].filter(([, op]) => op.kind === "hs") as [
              number,
              { kind: "hs"; term: number },
            ][];
            const durableTerm = Math.max(
              hsTerm,
              ...hs.filter(([s]) => run.durable.has(s)).map(([, o]) => o.term),
            );
            const startedTerm = Math.max(hsTerm, ...hs.map(([, o]) => o.term));
            const loaded = stores.hardState.load().term;
            expect(loaded).toBeGreaterThanOrEqual(durableTerm);
            expect(loaded).toBeLessThanOrEqual(startedTerm);
            hsTerm = loaded;
            base = got;
          } finally {
            await stores.close();
          }
        }
        // The kills did land while writes were in flight (not only between writes).
        expect(sawInFlight).toBeGreaterThan(KILLS_PER_BACKEND / 2);
        expect(base.last()).toBeGreaterThan(100);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }, 240_000);
  }
});
