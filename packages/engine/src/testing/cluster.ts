// A cluster of RaftNodes in one process over the in-memory peer network, with memory or durable
// (temporary directory) storage, for the engine's tests.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MemoryNetwork } from "@d-engine/transport";
import type { NodeOptions } from "../options.js";
import { RaftNode } from "../raft-node.js";
import { waitFor } from "./wait.js";

export const addressOf = (id: number): string => `127.0.0.1:${7000 + id}`;

export interface ClusterSpec {
  readonly size: number;
  readonly durable?: boolean;
  /** Options for every node (nodeId, address, transport and storage are filled in). */
  readonly options?: Partial<NodeOptions>;
  /** The seed of node id's election randomness is seed + id. */
  readonly seed?: number;
}

/** Fast timers: 10 ms ticks, elections after 100-200 ms. */
export const FAST_RAFT = { tickMs: 10, electionTicks: 10, heartbeatTicks: 1 } as const;

export class TestCluster {
  readonly net = new MemoryNetwork();
  readonly nodes = new Map<number, RaftNode>();
  private readonly dirs = new Map<number, string>();
  private root: string | undefined;

  private constructor(private readonly spec: ClusterSpec) {}

  static async start(spec: ClusterSpec): Promise<TestCluster> {
    const c = new TestCluster(spec);
    if (spec.durable) c.root = await mkdtemp(join(tmpdir(), "d-engine-engine-test-"));
    const members = Array.from({ length: spec.size }, (_, i) => ({
      id: i + 1,
      address: addressOf(i + 1),
    }));
    await Promise.all(members.map((m) => c.startNode(m.id, { initialMembers: members })));
    return c;
  }

  /** This node's data directory (durable clusters). */
  dataDir(id: number): string | undefined {
    if (!this.root) return undefined;
    let d = this.dirs.get(id);
    if (!d) {
      d = join(this.root, `node-${id}`);
      this.dirs.set(id, d);
    }
    return d;
  }

  /** Starts (or restarts, on the same data directory) node `id`. */
  async startNode(id: number, extra: Partial<NodeOptions> = {}): Promise<RaftNode> {
    const dataDir = this.dataDir(id);
    const base = this.spec.options ?? {};
    const node = await RaftNode.start({
      clusterId: "test",
      ...base,
      ...extra,
      raft: { ...FAST_RAFT, seed: (this.spec.seed ?? 1) + id, ...base.raft, ...extra.raft },
      nodeId: id,
      address: addressOf(id),
      ...(dataDir ? { dataDir } : {}),
      peerTransport: (h) => this.net.connect(id, h, { onUnreachable: (to) => h.onUnreachable(to) }),
    });
    this.nodes.set(id, node);
    return node;
  }

  node(id: number): RaftNode {
    const n = this.nodes.get(id);
    if (!n) throw new Error(`no node ${id}`);
    return n;
  }

  running(): RaftNode[] {
    return [...this.nodes.values()];
  }

  /** Waits until one node leads and every running node (among `among`) knows it. */
  async leader(timeoutMs = 10_000, among = this.running()): Promise<RaftNode> {
    let found: RaftNode | undefined;
    await waitFor(
      () => {
        const leaders = among.filter((n) => n.isLeader);
        if (leaders.length !== 1) return false;
        const l = leaders[0] as RaftNode;
        if (!among.every((n) => n.leader().id === l.id)) return false;
        found = l;
        return true;
      },
      "a leader every node agrees on",
      timeoutMs,
    );
    return found as RaftNode;
  }

  /** Stops node `id` (no leadership transfer: like a crash that flushed its writes). */
  async stopNode(id: number, opts: { transferLeadership?: boolean } = {}): Promise<void> {
    const n = this.nodes.get(id);
    if (!n) return;
    this.nodes.delete(id);
    await n.stop({ transferLeadership: opts.transferLeadership ?? false });
  }

  async close(): Promise<void> {
    const all = [...this.nodes.keys()];
    await Promise.allSettled(all.map((id) => this.stopNode(id)));
    if (this.root) await rm(this.root, { recursive: true, force: true });
  }
}
