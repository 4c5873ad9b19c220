// LeaseService over any DEngineClient (the engine's node api on a server): requests decoded and
// validated by @d-engine/client/wire, failures sent as ConnectErrors with an ErrorDetail. A
// follower's api answers NotLeaderError naming the leader, and clients follow it, as for KV
// writes. The bidirectional LeaseKeepAlive answers each request in order; a keep-alive the state
// machine refuses (the lease is gone) is answered on the stream with its error, while losing the
// leadership ends the stream with NOT_LEADER so the client reconnects to the new leader.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import { type CallOptions, type DEngineClient, KvCommandError } from "@d-engine/client";
import {
  checkLeaseId,
  fromU64,
  fromWireLeaseGrantRequest,
  fromWireSession,
  toConnectError,
  toU64,
  toWireLeaseGrantResponse,
  toWireLeaseKeepAliveOnceResponse,
  toWireLeaseListResponse,
  toWireLeaseRevokeResponse,
  toWireLeaseTimeToLiveResponse,
} from "@d-engine/client/wire";
import type {
  LeaseGrantRequest,
  LeaseKeepAliveOnceRequest,
  LeaseKeepAliveRequest,
  LeaseKeepAliveResponseSchema,
  LeaseRevokeRequest,
  LeaseTimeToLiveRequest,
} from "@d-engine/proto/api";

function callOpts(ctx: HandlerContext): CallOptions {
  const timeoutMs = ctx.timeoutMs();
  return { signal: ctx.signal, ...(timeoutMs === undefined ? {} : { timeoutMs }) };
}

async function handle<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw toConnectError(e);
  }
}

function leaseId(v: bigint): number {
  const id = fromU64(v, "id");
  checkLeaseId(id);
  return id;
}

/** The LeaseService handlers over `api`. */
export function leaseHandlers(api: DEngineClient) {
  return {
    leaseGrant: (req: LeaseGrantRequest, ctx: HandlerContext) =>
      handle(async () => {
        const r = fromWireLeaseGrantRequest(req);
        const g = await api.leases.grant(r.ttlSeconds, {
          ...callOpts(ctx),
          ...(r.id ? { id: r.id } : {}),
          ...(r.session ? { session: r.session } : {}),
        });
        return toWireLeaseGrantResponse(g);
      }),
    leaseRevoke: (req: LeaseRevokeRequest, ctx: HandlerContext) =>
      handle(async () => {
        const id = leaseId(req.id);
        const session = fromWireSession(req.session);
        const r = await api.leases.revoke(id, {
          ...callOpts(ctx),
          ...(session ? { session } : {}),
        });
        return toWireLeaseRevokeResponse(r);
      }),
    leaseKeepAliveOnce: (req: LeaseKeepAliveOnceRequest, ctx: HandlerContext) =>
      handle(async () =>
        toWireLeaseKeepAliveOnceResponse(
          await api.leases.keepAliveOnce(leaseId(req.id), callOpts(ctx)),
        ),
      ),
    async *leaseKeepAlive(
      reqs: AsyncIterable<LeaseKeepAliveRequest>,
      ctx: HandlerContext,
    ): AsyncGenerator<MessageInitShape<typeof LeaseKeepAliveResponseSchema>> {
      try {
        for await (const req of reqs) {
          const id = leaseId(req.id);
          try {
            const g = await api.leases.keepAliveOnce(id, { signal: ctx.signal });
            yield { id: toU64(g.id, "id"), ttlSeconds: toU64(g.ttlSeconds, "ttl_seconds") };
          } catch (e) {
            if (!(e instanceof KvCommandError)) throw e;
            yield { id: req.id, ttlSeconds: 0n, error: e.message, kvError: e.kvCode };
          }
        }
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.Canceled) throw e;
        throw toConnectError(e);
      }
    },
    leaseTimeToLive: (req: LeaseTimeToLiveRequest, ctx: HandlerContext) =>
      handle(async () =>
        toWireLeaseTimeToLiveResponse(
          await api.leases.timeToLive(leaseId(req.id), { ...callOpts(ctx), keys: req.keys }),
        ),
      ),
    leaseList: (_req: unknown, ctx: HandlerContext) =>
      handle(async () => toWireLeaseListResponse(await api.leases.list(callOpts(ctx)))),
  };
}
