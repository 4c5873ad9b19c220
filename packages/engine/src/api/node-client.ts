// The client API served by one node (RaftNode.api).
import type { ClusterApi, MaintenanceApi } from "@d-engine/client";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import { ClusterApiImpl } from "./cluster-api.js";
import { KvApiImpl } from "./kv-api.js";
import { MaintenanceApiImpl } from "./maintenance-api.js";
import type { NodeApi } from "./types.js";

export class NodeClient extends KvApiImpl implements NodeApi {
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;

  constructor(rt: NodeRuntime) {
    super(rt);
    this.cluster = new ClusterApiImpl(rt);
    this.maintenance = new MaintenanceApiImpl(rt);
  }

  /** The node's API is not a connection: the node's lifetime is RaftNode.stop(). */
  async close(): Promise<void> {}
}
