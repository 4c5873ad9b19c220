// The reference: a three-member etcd (Debian's etcd-server 3.4) on 127.0.0.1 ports with its data
// in a temporary directory, fsync on (etcd's default), history compaction as d-engine's default
// (keep 10,000 revisions), driven from this process by the `etcd3` client (grpc-js) with the same
// scenarios and the same bounded pool of connections, all to the leader.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePorts, waitFor } from "@d-engine/e2e";
import { Etcd3 } from "etcd3";
import { runLoad, type Target, warmUp } from "../load/run-load.js";
import { trackPid } from "../proc/cleanup.js";
import { peakRssAll } from "../proc/rss.js";
import type { LoadSpec } from "../scenarios.js";
import { guardMode, type Mode, type ModeOptions } from "./mode.js";

export const ETCD_BINARY = process.env.ETCD_BINARY ?? "/usr/bin/etcd";
export const ETCD_INSTALL_HINT =
  "etcd is not installed: install Debian's etcd-server 3.4 with `sudo apt-get install -y etcd-server etcd-client` (or set ETCD_BINARY) to get the reference rows";

export function etcdInstalled(): boolean {
  return existsSync(ETCD_BINARY);
}

/** "3.4.23", from `etcd --version`. */
export async function etcdVersion(): Promise<string | undefined> {
  if (!etcdInstalled()) return undefined;
  try {
    const { stdout } = await promisify(execFile)(ETCD_BINARY, ["--version"]);
    return /etcd Version:\s*(\S+)/.exec(stdout)?.[1];
  } catch {
    return undefined;
  }
}

interface Member {
  readonly name: string;
  readonly clientUrl: string;
  readonly child: ChildProcess;
  log: string;
}

export async function startEtcd(opts: ModeOptions): Promise<Mode> {
  const dir = await mkdtemp(join(tmpdir(), "dengine-bench-etcd-"));
  const ports = await freePorts(6);
  const peerUrl = (i: number) => `http://127.0.0.1:${ports[2 * i + 1]}`;
  const initialCluster = [0, 1, 2].map((i) => `m${i + 1}=${peerUrl(i)}`).join(",");
  const members: Member[] = [0, 1, 2].map((i) => {
    const name = `m${i + 1}`;
    const clientUrl = `http://127.0.0.1:${ports[2 * i]}`;
    const child = spawn(
      ETCD_BINARY,
      [
        `--name=${name}`,
        `--data-dir=${join(dir, name)}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl(i)}`,
        `--initial-advertise-peer-urls=${peerUrl(i)}`,
        `--initial-cluster=${initialCluster}`,
        "--initial-cluster-state=new",
        `--initial-cluster-token=bench-${process.pid}`,
        "--auto-compaction-mode=revision",
        "--auto-compaction-retention=10000",
        "--logger=zap",
        "--log-level=error",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const m: Member = { name, clientUrl, child, log: "" };
    const keep = (b: Buffer) => {
      m.log = (m.log + b.toString()).slice(-20_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    return m;
  });
  const untrack = members.map((m) => trackPid(m.child.pid));
  const clients: Etcd3[] = [];
  const stopCluster = async () => {
    for (const c of clients) c.close();
    await Promise.all(
      members.map(
        (m) =>
          new Promise<void>((resolve) => {
            if (m.child.exitCode !== null || m.child.signalCode !== null) return resolve();
            m.child.once("exit", () => resolve());
            m.child.kill("SIGKILL");
          }),
      ),
    );
    for (const u of untrack) u();
    await rm(dir, { recursive: true, force: true });
  };
  return guardMode(stopCluster, async () => {
    const probes = members.map((m) => new Etcd3({ hosts: m.clientUrl, dialTimeout: 1_000 }));
    let leaderUrl: string;
    try {
      leaderUrl = await waitFor(
        "the three etcd members to agree on a leader",
        async () => {
          for (const m of members) {
            if (m.child.exitCode !== null) throw new Error(`etcd ${m.name} exited: ${m.log}`);
          }
          const s = await Promise.all(probes.map((p) => p.maintenance.status()));
          const leaders = new Set(s.map((x) => x.leader));
          const [only] = [...leaders];
          if (leaders.size !== 1 || !only || only === "0") return undefined;
          const i = s.findIndex((x) => x.header.member_id === only);
          return i >= 0 ? members[i]?.clientUrl : undefined;
        },
        30_000,
      );
    } finally {
      for (const p of probes) p.close();
    }
    const leaderIndex = members.findIndex((m) => m.clientUrl === leaderUrl);
    const connection = (i: number): Etcd3 => {
      while (clients.length <= i) {
        clients.push(
          new Etcd3({
            hosts: leaderUrl,
            // grpc-js shares one connection among channels with equal options unless told not to:
            // each client here is one connection, as each d-engine network client is.
            grpcOptions: { "grpc.use_local_subchannel_pool": 1 },
            defaultCallOptions: () => ({ deadline: Date.now() + opts.timeoutMs }),
          }),
        );
      }
      return clients[i]!;
    };
    const target: Target = {
      connections: opts.connections,
      async put(conn, key, value) {
        await connection(conn)
          .put(key)
          .value(Buffer.from(value.buffer, value.byteOffset, value.length));
      },
      get(conn, key, consistency) {
        // Linearizable: etcd's default get. Lease has no etcd equivalent: serializable stands in.
        // Resolves null for a missing key.
        return connection(conn)
          .get(key)
          .serializable(consistency !== "linearizable")
          .buffer();
      },
    };
    const order = [members[leaderIndex], ...members.filter((_, i) => i !== leaderIndex)];
    return {
      name: "etcd",
      pids: order.map((m) => m?.child.pid ?? 0),
      dataDir: dir,
      warmUp: (spec: LoadSpec) => warmUp(spec, target, opts.connections),
      run: (spec: LoadSpec) => runLoad(spec, target),
      async preload(spec: LoadSpec) {
        const r = await runLoad(spec, target);
        if (r.errors > 0) throw new Error(`etcd preload failed: ${r.firstError}`);
      },
      peakRss: () => peakRssAll(order.map((m) => m?.child.pid)),
    };
  });
}
