// What the lock and election recipes need from a client: transactions, ranges, watches and
// leases: a slice of DEngineClient, so that the network client, the embedded engine's in-process
// client and the in-memory fake of the unit tests all fit it. The recipes use nothing else, so
// they behave the same over each.
import type { LeaseApi, LeaseKeeper } from "../lease/types.js";
import type { KvApi } from "../types.js";
import type { WatchBatch, WatchEvent, Watcher, WatchOptions } from "../watch/types.js";

export type CoordinationWatchEvent = WatchEvent;
export type CoordinationWatchResponse = WatchBatch;
export type CoordinationWatchOptions = WatchOptions;
export type CoordinationWatcher = Watcher;
export type CoordinationLeaseKeeper = LeaseKeeper;
export type CoordinationLeases = Pick<LeaseApi, "grant" | "revoke" | "keepAlive" | "keepAliveOnce">;

export interface CoordinationClient extends Pick<KvApi, "txn" | "range"> {
  watch(opts: WatchOptions): Watcher;
  readonly leases: CoordinationLeases;
}
