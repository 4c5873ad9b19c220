// Snapshots through the API: take one now, or download the newest one as stored (the snapshot
// store's self-checking encoding: a backup that can be verified and restored).
import {
  type CallOptions,
  type MaintenanceApi,
  type SnapshotInfo,
  TimeoutError,
} from "@d-engine/client";
import type { NodeRuntime } from "../runtime/node-runtime.js";

export class MaintenanceApiImpl implements MaintenanceApi {
  constructor(private readonly rt: NodeRuntime) {}

  async takeSnapshot(): Promise<SnapshotInfo> {
    this.rt.checkAccepting();
    const info = await this.rt.snapshots.take();
    return { index: info.metadata.index, term: info.metadata.term, bytes: info.encodedBytes };
  }

  async *downloadSnapshot(
    opts: CallOptions & { readonly fresh?: boolean } = {},
  ): AsyncIterable<Uint8Array> {
    this.rt.checkAccepting();
    const snapshots = this.rt.ns.stores.snapshots;
    let info = snapshots.latest();
    if (opts.fresh || !info) info = await this.rt.snapshots.take();
    for await (const chunk of snapshots.chunks(info.metadata.index)) {
      if (opts.signal?.aborted) throw new TimeoutError("the download was cancelled", false);
      yield chunk;
    }
  }
}
