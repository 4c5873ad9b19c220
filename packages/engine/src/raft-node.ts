// One node: the loop, the storage, the state machine and the transport (see runtime/). This is
// the face an application or a server holds.
import type { NodeStatus } from "@d-engine/client";
import type { KvEventListener } from "@d-engine/storage";
import { nodeStatus } from "./api/cluster-api.js";
import { NodeClient } from "./api/node-client.js";
import type { NodeApi } from "./api/types.js";
import type { EngineMetrics } from "./metrics/engine-metrics.js";
import { type EnginePeerHandler, type NodeOptions, resolveOptions } from "./options.js";
import { NodeRuntime } from "./runtime/node-runtime.js";

export class RaftNode {
  /** Serves calls on THIS node: writes on a follower throw NotLeaderError; reads per consistency. */
  readonly api: NodeApi;

  private constructor(private readonly rt: NodeRuntime) {
    this.api = new NodeClient(rt);
  }

  /** Opens (or creates) the node's storage, connects its transport and starts its loop. */
  static async start(opts: NodeOptions): Promise<RaftNode> {
    const resolved = resolveOptions(opts);
    return new RaftNode(await NodeRuntime.open(resolved, opts.peerTransport));
  }

  get id(): number {
    return this.rt.id;
  }

  /** What the transport delivers to (messages, snapshots, peer addresses, unreachable peers). */
  get peerHandler(): EnginePeerHandler {
    return this.rt.peerHandler;
  }

  get isLeader(): boolean {
    return this.rt.isLeader();
  }

  /** The node's current Raft term (e.g. for log lines). */
  get term(): number {
    return this.rt.raw.raft.term;
  }

  /**
   * This node's Prometheus metrics, in a registry of its own: serve `metrics.text()` with
   * `metrics.contentType` on an HTTP endpoint (the d-engine server does, on metrics.listen).
   */
  get metrics(): EngineMetrics {
    return this.rt.metrics;
  }

  /** The leader this node knows of (id 0: none) and its client address. */
  leader(): { readonly id: number; readonly address: string } {
    const id = this.rt.raw.leader;
    return { id, address: id ? this.rt.membership.clientAddress(id) : "" };
  }

  status(): NodeStatus {
    return nodeStatus(this.rt);
  }

  /** Resolves with the leader's id once one is known; rejects after `timeoutMs`. */
  waitForLeader(timeoutMs: number): Promise<number> {
    const now = this.rt.raw.leader;
    if (now !== 0) return Promise.resolve(now);
    return this.rt.leader.waitFor((l) => l !== 0, timeoutMs, "waiting for a leader");
  }

  /** Calls `cb` whenever the known leader changes (0: none known); returns the unsubscribe. */
  onLeaderChange(cb: (leaderId: number, term: number) => void): () => void {
    return this.rt.leader.listen(cb);
  }

  /** Each applied command's key events on this node (for a watch hub). */
  onEvents(listener: KvEventListener): () => void {
    return this.rt.ns.kv.onEvents(listener);
  }

  /**
   * Stops accepting calls, hands leadership to the most caught-up voter if this node leads
   * (unless transferLeadership is false), finishes the Ready in flight, fails what is still
   * waiting (writes with outcomeUnknown), closes the transport and the stores.
   */
  stop(opts?: { transferLeadership?: boolean; timeoutMs?: number }): Promise<void> {
    return this.rt.stop(opts);
  }
}
