#!/usr/bin/env node
// `npm run bench`: d-engine embedded and standalone side by side with a three-member etcd on this
// machine. Progress goes to stderr; the machine, the table and the goal lines to stdout.
import { type BenchReport, runBench } from "./bench.js";
import { parseBenchArgs, USAGE, UsageError } from "./options.js";
import { shutdownAll } from "./proc/cleanup.js";
import { evaluateGoals, formatGoalLines, formatGoalTable } from "./report/goals.js";
import { describeMachine } from "./report/machine.js";
import { formatTable } from "./report/table.js";

function print(report: BenchReport, json: boolean): void {
  const goals = evaluateGoals(report.rows);
  if (json) {
    console.log(JSON.stringify({ ...report, goals }, null, 2));
    return;
  }
  const o = report.options;
  const out = [
    describeMachine(report.machine),
    `date ${report.date}; ops scale ${o.ops}; up to ${o.connections} connections; fsync on everywhere (d-engine's state machine: ${o.stateMachineFsync ? "every batch" : "in the background, after the log's fsync"})`,
    ...report.notes.map((n) => `note: ${n}`),
    "",
    formatTable(report.rows),
    "",
    formatGoalTable(goals),
    "",
    formatGoalLines(goals),
  ];
  console.log(out.join("\n"));
}

async function main(): Promise<number> {
  let opts: ReturnType<typeof parseBenchArgs>;
  try {
    opts = parseBenchArgs(process.argv.slice(2));
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    throw e;
  }
  if (!opts) {
    console.log(USAGE);
    return 0;
  }
  const report = await runBench(opts, (line) => process.stderr.write(`bench: ${line}\n`));
  print(report, opts.json);
  return report.failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
    // grpc-js and HTTP/2 may keep handles open for a while; the work is done.
    setImmediate(() => process.exit(code));
  },
  async (e: unknown) => {
    console.error(e);
    await shutdownAll();
    process.exit(1);
  },
);
