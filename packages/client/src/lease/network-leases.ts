// The network client's lease API over LeaseService. Grant and revoke are writes with a session
// (a retry applies once); keep-alive, time-to-live and list go to the leader, which alone knows
// the leases' remaining times. The background keeper renews with the unary LeaseKeepAliveOnce:
// each renewal then gets the client's leader discovery, redirects and retries (across a leader
// failover), and it works in browsers, which cannot open the bidirectional LeaseKeepAlive stream.
import type { Client, CallOptions as ConnectCallOptions } from "@connectrpc/connect";
import type { LeaseService } from "@d-engine/proto/api";
import type { CallOptions, WriteSession } from "../types.js";
import {
  checkLeaseId,
  fromWireLeaseGrant,
  fromWireLeaseListResponse,
  fromWireLeaseTimeToLiveResponse,
  toWireLeaseGrantRequest,
} from "../wire/lease.js";
import { fromU64, toU64 } from "../wire/numbers.js";
import { toWireSession } from "../wire/values.js";
import { createLeaseKeeper } from "./keeper.js";
import type { LeaseApi } from "./types.js";

export type LeaseStub = Client<typeof LeaseService>;

/** What the lease API needs from the network client's call machinery. */
export interface LeaseCalls {
  /** A write with a session, to the leader, retried within the call's deadline. */
  write<T>(
    opts: CallOptions | undefined,
    fn: (s: LeaseStub, session: WriteSession, call: ConnectCallOptions) => Promise<T>,
  ): Promise<T>;
  /** A call to the leader that is safe to retry (a read, or a keep-alive). */
  leader<T>(
    opts: CallOptions | undefined,
    fn: (s: LeaseStub, call: ConnectCallOptions) => Promise<T>,
  ): Promise<T>;
}

export function networkLeaseApi(calls: LeaseCalls): LeaseApi {
  const api: LeaseApi = {
    grant: async (ttlSeconds, opts) => {
      toWireLeaseGrantRequest(ttlSeconds, opts?.id, undefined); // validates before any call
      return calls.write(opts, async (s, session, call) =>
        fromWireLeaseGrant(
          await s.leaseGrant(toWireLeaseGrantRequest(ttlSeconds, opts?.id, session), call),
        ),
      );
    },
    revoke: async (id, opts) => {
      checkLeaseId(id);
      return calls.write(opts, async (s, session, call) => {
        const r = await s.leaseRevoke(
          { id: toU64(id, "id"), session: toWireSession(session) },
          call,
        );
        return { revision: fromU64(r.revision, "revision") };
      });
    },
    keepAliveOnce: async (id, opts) => {
      checkLeaseId(id);
      return calls.leader(opts, async (s, call) =>
        fromWireLeaseGrant(await s.leaseKeepAliveOnce({ id: toU64(id, "id") }, call)),
      );
    },
    timeToLive: async (id, opts) => {
      checkLeaseId(id);
      return calls.leader(opts, async (s, call) =>
        fromWireLeaseTimeToLiveResponse(
          await s.leaseTimeToLive({ id: toU64(id, "id"), keys: opts?.keys ?? false }, call),
        ),
      );
    },
    list: async (opts) =>
      calls.leader(opts, async (s, call) => fromWireLeaseListResponse(await s.leaseList({}, call))),
    keepAlive: (id, opts) => {
      checkLeaseId(id);
      return createLeaseKeeper(id, (i, call) => api.keepAliveOnce(i, call), opts);
    },
  };
  return api;
}
