// `pnpm --filter @d-engine/storage bench`: the storage benchmarks, ending with their goal lines.
//
//   node dist/bench/storage-bench.js [seconds per measurement, default 2]
//
// The KV state machine's benchmark joins in once src/bench/kv-bench.ts exists: it must export
// `runKvBench(options: { seconds: number }): Promise<string[]>` returning its goal lines.
import { runLogBench } from "./log-bench.js";

const seconds = Number(process.argv[2] ?? 2);
if (!(seconds > 0)) throw new Error(`seconds must be a positive number, got ${process.argv[2]}`);

const goals = await runLogBench({ seconds });

// A variable specifier, so that this compiles before kv-bench.ts exists.
const kvBench = "./kv-bench.js";
try {
  const kv = (await import(kvBench)) as {
    runKvBench(o: { seconds: number }): Promise<string[]>;
  };
  console.log("");
  goals.push(...(await kv.runKvBench({ seconds })));
} catch (e) {
  // Only "kv-bench.js itself is not there yet" is skipped; anything else is a real failure.
  const err = e as NodeJS.ErrnoException;
  if (err.code !== "ERR_MODULE_NOT_FOUND" || !String(err.message).includes("kv-bench")) throw e;
}

console.log("");
for (const line of goals) console.log(line);
