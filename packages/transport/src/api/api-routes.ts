// The client-facing services (KvService, ClusterService, MaintenanceService) on a ConnectRouter,
// over any DEngineClient: the engine's in-process client on a server, a fake in tests. Every
// request is decoded and validated by @d-engine/client/wire (the same code the client encodes
// with), checked against the limits (the same functions the client checks with), then passed to
// the API with the call's deadline and cancellation; every failure leaves as a ConnectError with
// an ErrorDetail.
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  type CallOptions,
  checkCompareAndSwap,
  checkGetMany,
  checkKeyRange,
  checkKeyValue,
  checkLimit,
  checkTxn,
  DEFAULT_LIMITS,
  type DEngineClient,
  type Limits,
  toBytes,
} from "@d-engine/client";
import {
  fromU64,
  fromWireAddLearnerRequest,
  fromWireCompactRequest,
  fromWireCompareAndSwapRequest,
  fromWireDeleteRequest,
  fromWireGetManyRequest,
  fromWireGetRequest,
  fromWireMemberId,
  fromWirePutRequest,
  fromWireRangeRequest,
  fromWireTxnRequest,
  toConnectError,
  toU64,
  toWireCompactResponse,
  toWireCompareAndSwapResponse,
  toWireDeleteResponse,
  toWireGetManyResponse,
  toWireGetResponse,
  toWireLeaderResponse,
  toWireMember,
  toWirePutResponse,
  toWireRangeResponse,
  toWireStatusResponse,
  toWireTakeSnapshotResponse,
  toWireTxnResponse,
} from "@d-engine/client/wire";
import {
  ClusterService,
  KvService,
  LeaseService,
  MaintenanceService,
  WatchService,
} from "@d-engine/proto/api";
import { leaseHandlers } from "./lease-routes.js";
import { watchHandlers } from "./watch-routes.js";

/** The largest data field of one DownloadSnapshot message. */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

export interface ApiRoutesOptions {
  /** Checked on every request before the API sees it (default DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
}

/** The call's deadline and cancellation, for the API. */
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

/** Registers the client-facing services over `api`. */
export function apiRoutes(
  api: DEngineClient,
  opts: ApiRoutesOptions = {},
): (router: ConnectRouter) => void {
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };

  const kv = {
    put: (req: Parameters<typeof fromWirePutRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWirePutRequest(req);
        checkKeyValue(limits, c.key, c.value);
        return toWirePutResponse(await api.put(c.key, c.value, { ...c.opts, ...callOpts(ctx) }));
      }),
    get: (req: Parameters<typeof fromWireGetRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireGetRequest(req);
        checkLimit(limits, "maxKeyBytes", c.key.length);
        return toWireGetResponse(await api.get(c.key, { ...c.opts, ...callOpts(ctx) }));
      }),
    getMany: (req: Parameters<typeof fromWireGetManyRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireGetManyRequest(req);
        checkGetMany(limits, c.keys);
        return toWireGetManyResponse(await api.getMany(c.keys, { ...c.opts, ...callOpts(ctx) }));
      }),
    range: (req: Parameters<typeof fromWireRangeRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireRangeRequest(req);
        const first = c.opts.prefix ?? c.opts.key;
        checkKeyRange(
          limits,
          first === undefined ? new Uint8Array(0) : toBytes(first),
          c.opts.rangeEnd === undefined ? undefined : toBytes(c.opts.rangeEnd),
        );
        return toWireRangeResponse(await api.range({ ...c.opts, ...callOpts(ctx) }));
      }),
    delete: (req: Parameters<typeof fromWireDeleteRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireDeleteRequest(req);
        const end = c.opts.rangeEnd === undefined ? undefined : toBytes(c.opts.rangeEnd);
        checkKeyRange(limits, c.key, end);
        return toWireDeleteResponse(await api.delete(c.key, { ...c.opts, ...callOpts(ctx) }));
      }),
    compareAndSwap: (
      req: Parameters<typeof fromWireCompareAndSwapRequest>[0],
      ctx: HandlerContext,
    ) =>
      handle(async () => {
        const c = fromWireCompareAndSwapRequest(req);
        checkCompareAndSwap(limits, c.key, c.expected, c.value);
        return toWireCompareAndSwapResponse(
          await api.compareAndSwap(c.key, c.expected, c.value, { ...c.opts, ...callOpts(ctx) }),
        );
      }),
    txn: (req: Parameters<typeof fromWireTxnRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireTxnRequest(req);
        checkTxn(limits, c.txn);
        return toWireTxnResponse(await api.txn(c.txn, { ...c.opts, ...callOpts(ctx) }));
      }),
    compact: (req: Parameters<typeof fromWireCompactRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const c = fromWireCompactRequest(req);
        return toWireCompactResponse(
          await api.compact(c.revision, { ...c.opts, ...callOpts(ctx) }),
        );
      }),
  };

  const cluster = {
    memberList: (req: { linearizable: boolean }, ctx: HandlerContext) =>
      handle(async () => {
        const l = await api.cluster.members({ linearizable: req.linearizable, ...callOpts(ctx) });
        return { members: l.members.map(toWireMember), leaderId: toU64(l.leaderId, "leader_id") };
      }),
    addLearner: (req: Parameters<typeof fromWireAddLearnerRequest>[0], ctx: HandlerContext) =>
      handle(async () => {
        const o = fromWireAddLearnerRequest(req);
        const l = await api.cluster.addLearner({ ...o, ...callOpts(ctx) });
        return { members: l.members.map(toWireMember) };
      }),
    promote: (req: { id: bigint }, ctx: HandlerContext) =>
      handle(async () => {
        const l = await api.cluster.promote(fromWireMemberId(req), callOpts(ctx));
        return { members: l.members.map(toWireMember) };
      }),
    removeMember: (req: { id: bigint }, ctx: HandlerContext) =>
      handle(async () => {
        const l = await api.cluster.removeMember(fromWireMemberId(req), callOpts(ctx));
        return { members: l.members.map(toWireMember) };
      }),
    transferLeader: (req: { to: bigint }, ctx: HandlerContext) =>
      handle(async () => {
        const to = fromU64(req.to, "to");
        const r = await api.cluster.transferLeader(to === 0 ? undefined : to, callOpts(ctx));
        return { leaderId: toU64(r.leaderId, "leader_id") };
      }),
    leader: (_req: unknown, ctx: HandlerContext) =>
      handle(async () => toWireLeaderResponse(await api.cluster.leader(callOpts(ctx)))),
    status: (_req: unknown, ctx: HandlerContext) =>
      handle(async () => toWireStatusResponse(await api.cluster.status(callOpts(ctx)))),
  };

  const maintenance = {
    takeSnapshot: (_req: unknown, ctx: HandlerContext) =>
      handle(async () =>
        toWireTakeSnapshotResponse(await api.maintenance.takeSnapshot(callOpts(ctx))),
      ),
    async *downloadSnapshot(req: { fresh: boolean }, ctx: HandlerContext) {
      try {
        const chunks = api.maintenance.downloadSnapshot({ fresh: req.fresh, ...callOpts(ctx) });
        for await (const chunk of chunks) {
          // Re-cut to bounded messages: a store may hand over the whole file at once.
          for (let i = 0; i < chunk.length; i += DOWNLOAD_CHUNK_BYTES) {
            yield { data: chunk.subarray(i, Math.min(i + DOWNLOAD_CHUNK_BYTES, chunk.length)) };
          }
        }
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.Canceled) throw e;
        throw toConnectError(e);
      }
    },
  };

  return (router) => {
    router.service(KvService, kv);
    router.service(ClusterService, cluster);
    router.service(MaintenanceService, maintenance);
    router.service(LeaseService, leaseHandlers(api));
    router.service(WatchService, watchHandlers(api, limits));
  };
}
