// Runs simulator seeds until a count or a time limit is reached, printing each failing seed with
// the command that replays it, and ends with one summary line:
//   sim seeds: N, steps/s: N, violations: N
// Usage (after building): pnpm --filter @d-engine/sim soak -- [--seeds N] [--start S]
//   [--time-limit SECONDS] [--knob NAME] | --seed X (replay one seed verbosely)
import { parseArgs as nodeParseArgs } from "node:util";
import type { UnsafeTestingKnobs } from "@d-engine/core";
import { describePlan } from "../sim/seed-plan.js";
import { runSeed, type SeedResult } from "../sim/simulation.js";

const KNOBS = [
  "countOldTermReplicasForCommit",
  "sendVotesBeforePersist",
  "serveReadIndexBeforeOwnTermCommit",
] as const;

interface Args {
  seeds: number;
  start: number;
  timeLimitS: number | undefined;
  replay: number | undefined;
  knob: (typeof KNOBS)[number] | undefined;
}

function usage(why: string): never {
  console.error(`soak: ${why}`);
  console.error(
    "usage: soak [--seeds N] [--start S] [--time-limit SECONDS] [--knob NAME] | --seed X",
  );
  process.exit(2);
}

function parseArgs(argv: readonly string[]): Args {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (e) {
    usage((e as Error).message);
  }
  const { values } = parsed;
  const num = (flag: string, v: string | undefined, fallback: number | undefined) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < 0) usage(`--${flag} needs a non-negative number, got "${v}"`);
    return n;
  };
  const knob = values.knob;
  if (knob !== undefined && !KNOBS.includes(knob as (typeof KNOBS)[number])) {
    usage(`--knob is one of ${KNOBS.join(", ")}, got "${knob}"`);
  }
  const replay = num("seed", values.seed, undefined);
  return {
    seeds: Math.floor(num("seeds", values.seeds, 100) as number),
    start: Math.floor(num("start", values.start, 1) as number),
    timeLimitS: num("time-limit", values["time-limit"], undefined),
    replay: replay === undefined ? undefined : Math.floor(replay),
    knob: knob as (typeof KNOBS)[number] | undefined,
  };
}

/** The flags, parsed by node:util (a leading "--" from `pnpm ... soak -- ...` is skipped). */
function parseFlags(argv: readonly string[]) {
  return nodeParseArgs({
    args: argv[0] === "--" ? argv.slice(1) : [...argv],
    options: {
      seeds: { type: "string" },
      start: { type: "string" },
      "time-limit": { type: "string" },
      seed: { type: "string" },
      knob: { type: "string" },
    },
    strict: true,
    allowPositionals: false,
  });
}

function replayCommand(seed: number, knob: string | undefined): string {
  return `pnpm --filter @d-engine/sim soak -- --seed ${seed}${knob ? ` --knob ${knob}` : ""}`;
}

function knobs(args: Args): UnsafeTestingKnobs | undefined {
  return args.knob ? { [args.knob]: true } : undefined;
}

function replay(args: Args, seed: number): number {
  const r = runSeed(seed, { knobs: knobs(args), verbose: (line) => console.log(line) });
  console.log("");
  console.log(`seed ${seed}: ${describePlan(r.plan)}`);
  console.log(`trace hash ${r.traceHash}, ${r.steps} steps, ${r.history.length} client operations`);
  console.log(`stats ${JSON.stringify(r.stats)}`);
  for (const v of r.violations) {
    console.log(`VIOLATION ${v.kind} at t=${(v.time / 1000).toFixed(3)}ms: ${v.message}`);
  }
  if (r.violations.length === 0) {
    console.log(
      `no violation; healed in ${r.healTicks} ticks; linearizability: ${r.linearizability?.ok}`,
    );
  }
  return r.violations.length > 0 ? 1 : 0;
}

function soak(args: Args): number {
  const started = performance.now();
  const deadline = args.timeLimitS === undefined ? Infinity : started + args.timeLimitS * 1000;
  let seeds = 0;
  let steps = 0;
  let violations = 0;
  let undecided = 0;
  for (let seed = args.start; seeds < args.seeds && performance.now() < deadline; seed++) {
    let r: SeedResult;
    try {
      r = runSeed(seed, { knobs: knobs(args) });
    } catch (e) {
      // A crash of the simulator itself is a failure to report like any other.
      violations++;
      seeds++;
      console.log(`seed ${seed}: simulator error: ${(e as Error).stack ?? e}`);
      console.log(`  replay: ${replayCommand(seed, args.knob)}`);
      continue;
    }
    seeds++;
    steps += r.steps;
    if (r.linearizability?.ok === "unknown") undecided++;
    const v = r.violations[0];
    if (v) {
      violations++;
      const first = v.message.split("\n")[0];
      console.log(`seed ${seed}: ${v.kind}: ${first}`);
      console.log(`  replay: ${replayCommand(seed, args.knob)}`);
    }
  }
  const elapsedS = (performance.now() - started) / 1000;
  console.log(
    `elapsed ${elapsedS.toFixed(1)}s, ${Math.round((seeds / elapsedS) * 60)} seeds/minute` +
      (undecided > 0 ? `, ${undecided} histories too large to check` : ""),
  );
  console.log(
    `sim seeds: ${seeds}, steps/s: ${Math.round(steps / Math.max(elapsedS, 1e-9))}, violations: ${violations}`,
  );
  return violations > 0 ? 1 : 0;
}

const args = parseArgs(process.argv.slice(2));
process.exitCode = args.replay !== undefined ? replay(args, args.replay) : soak(args);
