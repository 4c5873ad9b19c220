// Standalone mode: three `d-engine start` processes (fsync on, the defaults), driven from this
// process through @d-engine/client, the logical clients sharing a bounded pool of network clients
// (each one HTTP/2 connection per node it talks to).
import { fileURLToPath } from "node:url";
import { createClient, type DEngineClient } from "@d-engine/client/node";
import { LocalCluster } from "@d-engine/e2e";
import { runLoad, type Target, warmUp } from "../load/run-load.js";
import { trackPid } from "../proc/cleanup.js";
import { peakRssAll } from "../proc/rss.js";
import type { LoadSpec } from "../scenarios.js";
import { guardMode, type Mode, type ModeOptions } from "./mode.js";

function restoreEnv(name: string, value: string | undefined): void {
  if (value === undefined) delete process.env[name];
  else process.env[name] = value;
}

export async function startStandalone(opts: ModeOptions): Promise<Mode> {
  // The servers inherit this environment: a preload profiles them (NODE_OPTIONS refuses --cpu-prof).
  const savedEnv = { NODE_OPTIONS: process.env.NODE_OPTIONS, dir: process.env.BENCH_CPU_PROF_DIR };
  if (opts.cpuProfDir) {
    const preload = fileURLToPath(new URL("../proc/cpu-profile-preload.js", import.meta.url));
    process.env.NODE_OPTIONS = `${savedEnv.NODE_OPTIONS ?? ""} --import=${preload}`.trim();
    process.env.BENCH_CPU_PROF_DIR = opts.cpuProfDir;
  }
  let cluster: LocalCluster;
  try {
    cluster = await LocalCluster.start({
      size: 3,
      clusterId: "bench",
      ...(opts.stateMachineFsync ? { args: ["--state-machine-fsync"] } : {}),
    });
  } finally {
    restoreEnv("NODE_OPTIONS", savedEnv.NODE_OPTIONS);
    restoreEnv("BENCH_CPU_PROF_DIR", savedEnv.dir);
  }
  const untrack = [...cluster.nodes.values()].map((n) => trackPid(n.process.pid));
  const clients: DEngineClient[] = [];
  const stopCluster = async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    // SIGTERM first (a graceful stop writes CPU profiles), bounded; then SIGKILL and cleanup.
    await Promise.race([
      Promise.allSettled([...cluster.nodes.values()].map((n) => n.process.stop())),
      new Promise((resolve) => setTimeout(resolve, 10_000).unref()),
    ]);
    await cluster.stop();
    for (const u of untrack) u();
  };
  return guardMode(stopCluster, async () => {
    const leader = await cluster.waitForLeader();
    const connection = (i: number): DEngineClient => {
      while (clients.length <= i) {
        clients.push(createClient({ endpoints: cluster.endpoints, timeoutMs: opts.timeoutMs }));
      }
      return clients[i]!;
    };
    const target: Target = {
      connections: opts.connections,
      put: (conn, key, value) => connection(conn).put(key, value),
      get: (conn, key, consistency) => connection(conn).get(key, { consistency }),
    };
    const order = [leader, ...[...cluster.nodes.keys()].filter((id) => id !== leader)];
    return {
      name: "standalone",
      pids: order.map((id) => cluster.node(id).process.pid ?? 0),
      dataDir: cluster.dir,
      warmUp: (spec: LoadSpec) => warmUp(spec, target, opts.connections),
      run: (spec: LoadSpec) => runLoad(spec, target),
      async preload(spec: LoadSpec) {
        const r = await runLoad(spec, target);
        if (r.errors > 0) throw new Error(`standalone preload failed: ${r.firstError}`);
      },
      peakRss: () => peakRssAll(order.map((id) => cluster.node(id).process.pid)),
    };
  });
}
