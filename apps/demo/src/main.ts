// `npm start`: a three-node cluster of the real core in this process, on real timers. It ticks
// every 100 ms, a client proposes every 500 ms, and every 8 s the leader is killed (cut off) for
// 3 s, so the failover can be watched. Ctrl-C (or --duration) stops it with a summary.
//
//   node dist/main.js [--duration <seconds>] [--seed <n>]
import { parseArgs } from "node:util";
import { DemoCluster } from "./demo-cluster.js";
import { type DemoEvent, formatEvent } from "./events.js";

const TICK_MS = 100;
const PROPOSE_EVERY_MS = 500;
const FAILOVER_EVERY_MS = 8_000;
const OUTAGE_MS = 3_000;

const USAGE = "usage: node dist/main.js [--duration <seconds>] [--seed <n>]";

interface Args {
  readonly duration: number | undefined;
  readonly seed: number;
}

function parse(argv: readonly string[]): Args {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      duration: { type: "string" },
      seed: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  let duration: number | undefined;
  if (values.duration !== undefined) {
    duration = Number(values.duration);
    if (!Number.isFinite(duration) || duration <= 0) {
      throw new Error(`--duration needs a number of seconds > 0, got "${values.duration}"`);
    }
  }
  // A fresh seed per run unless one is given; it is printed so a run's elections can be replayed.
  let seed = Math.floor(Math.random() * 1_000_000);
  if (values.seed !== undefined) {
    seed = Number(values.seed);
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new Error(`--seed needs a non-negative integer, got "${values.seed}"`);
    }
  }
  return { duration, seed };
}

function main(): void {
  let args: Args;
  try {
    args = parse(process.argv.slice(2));
  } catch (e) {
    console.error(`demo: ${(e as Error).message}\n${USAGE}`);
    process.exitCode = 2;
    return;
  }

  const startedAt = Date.now();
  // Set when stdout's reader went away (`npm start | head`): nothing more can be shown.
  let outputClosed = false;
  const print = (e: DemoEvent) => {
    if (!outputClosed) process.stdout.write(`${formatEvent(e, new Date())}\n`);
  };
  const demo = new DemoCluster({ seed: args.seed, tickMs: TICK_MS, emit: print });
  const timers: NodeJS.Timeout[] = [];
  let healTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const stop = (exitCode: number) => {
    if (stopped) return;
    stopped = true;
    // With every timer cleared nothing keeps the event loop alive: the process ends by itself.
    for (const t of timers) clearTimeout(t);
    clearTimeout(healTimer);
    print({
      kind: "stopped",
      committed: demo.committed,
      elections: demo.elections,
      failovers: demo.failovers,
      seconds: (Date.now() - startedAt) / 1000,
    });
    process.exitCode = exitCode;
  };

  // A bug in a timer callback stops the demo with a message instead of a bare stack trace.
  const guarded = (fn: () => void) => () => {
    if (stopped) return;
    try {
      fn();
    } catch (e) {
      console.error(`demo: ${(e as Error).stack ?? e}`);
      stop(1);
    }
  };

  const every = (ms: number, fn: () => void) => timers.push(setInterval(guarded(fn), ms));
  const killLeader = () => {
    if (demo.isolateLeader(OUTAGE_MS) === undefined) return;
    healTimer = setTimeout(
      guarded(() => demo.heal()),
      OUTAGE_MS,
    );
  };

  demo.start();
  every(TICK_MS, () => demo.tick());
  every(PROPOSE_EVERY_MS, () => demo.propose());
  every(FAILOVER_EVERY_MS, killLeader);
  if (args.duration !== undefined) {
    timers.push(setTimeout(() => stop(0), args.duration * 1000));
  }
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => stop(0));
  process.stdout.on("error", (e: NodeJS.ErrnoException) => {
    if (e.code !== "EPIPE") throw e;
    outputClosed = true;
    stop(0);
  });
}

main();
