// The client-facing services (KvService, ClusterService, MaintenanceService) on a ConnectRouter,
// over any DEngineClient: the engine's in-process client on a server, a fake in tests. Every
// request is decoded and validated by @d-engine/client/wire (the same code the client encodes
// with), checked against the limits (the same functions the client checks with), then passed to
// the API with the call's deadline and cancellation; every failure leaves as a ConnectError with
// an ErrorDetail. The KV calls are kv-calls.ts, shared with KvService.Pipeline
// (pipeline-routes.ts), which carries many of them over one stream.
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  type CallOptions,
  DEFAULT_LIMITS,
  type DEngineClient,
  type Limits,
} from "@d-engine/client";
import {
  fromU64,
  fromWireAddLearnerRequest,
  fromWireMemberId,
  toConnectError,
  toU64,
  toWireLeaderResponse,
  toWireMember,
  toWireStatusResponse,
  toWireTakeSnapshotResponse,
} from "@d-engine/client/wire";
import {
  ClusterService,
  type CompactRequest,
  type CompareAndSwapRequest,
  type DeleteRequest,
  type GetManyRequest,
  type GetRequest,
  KvService,
  LeaseService,
  MaintenanceService,
  type PutRequest,
  type RangeRequest,
  type TxnRequest,
  WatchService,
} from "@d-engine/proto/api";
import { kvCalls } from "./kv-calls.js";
import { leaseHandlers } from "./lease-routes.js";
import { pipelineHandler } from "./pipeline-routes.js";
import { watchHandlers } from "./watch-routes.js";

/** The largest data field of one DownloadSnapshot message. */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

export interface ApiRoutesOptions {
  /** Checked on every request before the API sees it (default DEFAULT_LIMITS). */
  readonly limits?: Partial<Limits>;
  /** Calls one Pipeline stream may have unanswered at once (default PIPELINE_MAX_IN_FLIGHT). */
  readonly pipelineMaxInFlight?: number;
  /**
   * Fires when the server starts closing: Pipeline streams then answer new calls "unavailable"
   * (not applied), finish the calls they started and end, instead of holding the close open.
   */
  readonly shutdownSignal?: AbortSignal;
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

  const calls = kvCalls(api, limits);
  const kv = {
    put: (req: PutRequest, ctx: HandlerContext) => handle(() => calls.put(req, callOpts(ctx))),
    get: (req: GetRequest, ctx: HandlerContext) => handle(() => calls.get(req, callOpts(ctx))),
    getMany: (req: GetManyRequest, ctx: HandlerContext) =>
      handle(() => calls.getMany(req, callOpts(ctx))),
    range: (req: RangeRequest, ctx: HandlerContext) =>
      handle(() => calls.range(req, callOpts(ctx))),
    delete: (req: DeleteRequest, ctx: HandlerContext) =>
      handle(() => calls.delete(req, callOpts(ctx))),
    compareAndSwap: (req: CompareAndSwapRequest, ctx: HandlerContext) =>
      handle(() => calls.compareAndSwap(req, callOpts(ctx))),
    txn: (req: TxnRequest, ctx: HandlerContext) => handle(() => calls.txn(req, callOpts(ctx))),
    compact: (req: CompactRequest, ctx: HandlerContext) =>
      handle(() => calls.compact(req, callOpts(ctx))),
    pipeline: pipelineHandler(calls, {
      ...(opts.pipelineMaxInFlight ? { maxInFlight: opts.pipelineMaxInFlight } : {}),
      ...(opts.shutdownSignal ? { shutdownSignal: opts.shutdownSignal } : {}),
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
