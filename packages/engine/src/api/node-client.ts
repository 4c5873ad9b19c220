// The client API served by one node (RaftNode.api).
import type { ClusterApi, LeaseApi, MaintenanceApi, Watcher, WatchOptions } from "@d-engine/client";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import { ClusterApiImpl } from "./cluster-api.js";
import { KvApiImpl } from "./kv-api.js";
import { NodeLeaseApi } from "./lease-api.js";
import { MaintenanceApiImpl } from "./maintenance-api.js";
import type { NodeApi } from "./types.js";

export class NodeClient extends KvApiImpl implements NodeApi {
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;
  readonly leases: LeaseApi;

  constructor(rt: NodeRuntime) {
    super(rt);
    this.cluster = new ClusterApiImpl(rt);
    this.maintenance = new MaintenanceApiImpl(rt);
    this.leases = new NodeLeaseApi(rt);
  }

  /** Watches this node's state machine (on a follower too: it applies the same events). */
  watch(opts: WatchOptions): Watcher {
    this.rt.checkAccepting();
    return this.rt.watches.watch(opts);
  }

  /** The node's API is not a connection: the node's lifetime is RaftNode.stop(). */
  async close(): Promise<void> {}
}
