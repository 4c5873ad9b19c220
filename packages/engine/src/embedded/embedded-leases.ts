// The embedded client's lease API: grant and revoke are writes with the client's session (a
// retry after a leader change applies once), keep-alive, time-to-live and list go to the leader
// (this node's api when it leads, the forwardTo client otherwise), and the keeper renews with
// keepAliveOnce through the same routing.
import { createLeaseKeeper, type LeaseApi } from "@d-engine/client";
import type { NodeApi, WriteSession } from "../api/types.js";

export interface EmbeddedLeaseRouting {
  /** Runs a write on the leader with a fresh session of this client. */
  write<T>(call: (c: NodeApi, session: WriteSession) => Promise<T>): Promise<T>;
  /** Runs a call on the leader. */
  route<T>(call: (c: NodeApi) => Promise<T>): Promise<T>;
}

export function embeddedLeaseApi(d: EmbeddedLeaseRouting): LeaseApi {
  const api: LeaseApi = {
    grant: (ttlSeconds, opts = {}) =>
      d.write((c, session) => c.leases.grant(ttlSeconds, { ...opts, session })),
    revoke: (id, opts = {}) => d.write((c, session) => c.leases.revoke(id, { ...opts, session })),
    keepAliveOnce: (id, opts) => d.route((c) => c.leases.keepAliveOnce(id, opts)),
    timeToLive: (id, opts) => d.route((c) => c.leases.timeToLive(id, opts)),
    list: (opts) => d.route((c) => c.leases.list(opts)),
    keepAlive: (id, opts) => createLeaseKeeper(id, (i, call) => api.keepAliveOnce(i, call), opts),
  };
  return api;
}
