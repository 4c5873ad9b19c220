// A cluster of real `d-engine start` processes on 127.0.0.1, each with its own data directory
// under a temporary folder, for end-to-end tests. Every wait is bounded and says what it awaited.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createClient, type DEngineClient } from "@d-engine/client";
import { freePorts } from "./ports.js";
import { ServerProcess } from "./server-process.js";
import { waitFor } from "./wait.js";

export interface ClusterNode {
  readonly id: number;
  readonly address: string;
  readonly dataDir: string;
  readonly process: ServerProcess;
  /** host:port of the node's HTTP/1.1 listener for /metrics and /health. */
  readonly metricsAddress: string;
}

export interface ClusterOptions {
  readonly size: number;
  readonly clusterId?: string;
  /** Extra `d-engine start` flags for every node. */
  readonly args?: readonly string[];
}

export class LocalCluster {
  readonly nodes = new Map<number, ClusterNode>();
  private readonly clients: DEngineClient[] = [];

  private constructor(
    readonly dir: string,
    readonly clusterId: string,
    private readonly args: readonly string[],
  ) {}

  static async start(opts: ClusterOptions): Promise<LocalCluster> {
    const dir = await mkdtemp(join(tmpdir(), "dengine-e2e-"));
    const c = new LocalCluster(dir, opts.clusterId ?? "e2e", opts.args ?? []);
    // A node port and a metrics port for each node, all distinct.
    const ports = await freePorts(2 * opts.size);
    const members = ports
      .slice(0, opts.size)
      .map((p, i) => ({ id: i + 1, address: `127.0.0.1:${p}` }));
    const initial = members.map((m) => `${m.id}=${m.address}`).join(",");
    for (const m of members) {
      const metrics = `127.0.0.1:${ports[opts.size + m.id - 1]}`;
      c.spawn(m.id, m.address, metrics, ["--initial-cluster", initial]);
    }
    await c.waitForLeader();
    return c;
  }

  private spawn(
    id: number,
    address: string,
    metricsAddress: string,
    extra: readonly string[],
  ): ClusterNode {
    const dataDir = join(this.dir, `node-${id}`);
    const proc = new ServerProcess(`node ${id}`, [
      "start",
      "--id",
      String(id),
      "--cluster-id",
      this.clusterId,
      "--listen",
      address,
      "--data-dir",
      dataDir,
      "--metrics-listen",
      metricsAddress,
      ...extra,
      ...this.args,
    ]);
    const node = { id, address, dataDir, process: proc, metricsAddress };
    this.nodes.set(id, node);
    proc.start();
    return node;
  }

  node(id: number): ClusterNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  get endpoints(): string[] {
    return [...this.nodes.values()].map((n) => n.address);
  }

  /** A client over every node's endpoint (closed by stop()). */
  client(opts: { endpoints?: string[]; timeoutMs?: number } = {}): DEngineClient {
    const c = createClient({
      endpoints: opts.endpoints ?? this.endpoints,
      timeoutMs: opts.timeoutMs ?? 10_000,
    });
    this.clients.push(c);
    return c;
  }

  /**
   * Waits until every running node (but `exclude`, which may be paused) reports the same leader,
   * other than `exclude`; returns its id.
   */
  async waitForLeader(timeoutMs = 30_000, exclude?: number): Promise<number> {
    const probe = this.client({ timeoutMs: 2_000 });
    return waitFor(
      "every running node to agree on one leader",
      async () => {
        const seen = new Set<number>();
        for (const n of this.nodes.values()) {
          if (!n.process.running || n.id === exclude) continue;
          const s = await probe.cluster.status({ endpoint: n.address, timeoutMs: 1_000 });
          seen.add(s.leaderId);
        }
        const [only] = [...seen];
        return seen.size === 1 && only !== undefined && only !== 0 && only !== exclude
          ? only
          : undefined;
      },
      timeoutMs,
    );
  }

  /** kill -9. */
  async kill(id: number): Promise<void> {
    await this.node(id).process.kill();
  }

  /** Starts a stopped node again from its data directory. */
  restart(id: number): void {
    this.node(id).process.start();
  }

  /** Starts a new node that waits to be added (it joins as a learner). */
  async spawnJoiner(id: number): Promise<ClusterNode> {
    const [port, metricsPort] = await freePorts(2);
    return this.spawn(id, `127.0.0.1:${port}`, `127.0.0.1:${metricsPort}`, ["--join"]);
  }

  /** Logs of every node, for a failure message. */
  logs(): string {
    return [...this.nodes.values()]
      .map((n) => `--- node ${n.id}\n${n.process.log.slice(-4000)}`)
      .join("\n");
  }

  async stop(): Promise<void> {
    await Promise.all(this.clients.map((c) => c.close().catch(() => undefined)));
    await Promise.all([...this.nodes.values()].map((n) => n.process.kill()));
    await rm(this.dir, { recursive: true, force: true });
  }
}
