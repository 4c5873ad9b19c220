// WatchService over any DEngineClient (the engine's node api on a server): one watch per server
// stream. The first message (created) names the watch, for WatchProgress, and for a watch from
// "now" carries the revision it starts after, so a client that must resume knows where from.
// The API's own cancellations (compacted start, slow consumer) travel in-band as the stream's
// last message; a node that stops ends the stream with UNAVAILABLE, so the client resumes the
// watch on another node.
import type { MessageInitShape } from "@bufbuild/protobuf";
import { Code, ConnectError, type HandlerContext } from "@connectrpc/connect";
import {
  checkKeyRange,
  type DEngineClient,
  type Limits,
  toBytes,
  UnavailableError,
  WatchCanceledError,
  type Watcher,
  type WatchOptions,
} from "@d-engine/client";
import {
  fromU64,
  fromWireWatchRequest,
  toConnectError,
  toWireMembers,
  toWireWatchBatch,
  toWireWatchCanceled,
  toWireWatchCreated,
} from "@d-engine/client/wire";
import type {
  WatchMembersResponseSchema,
  WatchProgressRequest,
  WatchProgressResponseSchema,
  WatchRequest,
  WatchResponse,
} from "@d-engine/proto/api";

/** Cancellations the client must see (its watch cannot go on as asked); others are resumable. */
function isFinal(e: WatchCanceledError): boolean {
  return e.compactRevision > 0 || e.reason === "compacted" || e.reason === "slow consumer";
}

/** The WatchService handlers over `api`. */
export function watchHandlers(api: DEngineClient, limits: Limits) {
  /** The open watches of this server, by id (WatchProgress finds them here). */
  const open = new Map<number, Watcher>();
  let nextId = 1;
  return {
    async *watch(req: WatchRequest, ctx: HandlerContext): AsyncGenerator<WatchResponse> {
      let opts: WatchOptions;
      let w: Watcher;
      try {
        opts = fromWireWatchRequest(req);
        checkKeyRange(
          limits,
          toBytes(opts.key ?? ""),
          opts.rangeEnd === undefined ? undefined : toBytes(opts.rangeEnd),
        );
        w = api.watch({ ...opts, signal: ctx.signal });
      } catch (e) {
        throw toConnectError(e);
      }
      const id = nextId++;
      open.set(id, w);
      try {
        const it = w[Symbol.asyncIterator]();
        if (opts.startRevision === undefined) {
          // A watch from now: its first progress batch is the revision it starts after.
          w.requestProgress();
          const first = await it.next();
          if (first.done) return;
          yield toWireWatchCreated(id, first.value.revision);
          if (!first.value.progress) yield toWireWatchBatch(id, first.value);
        } else {
          yield toWireWatchCreated(id, opts.startRevision - 1);
        }
        for (;;) {
          const r = await it.next();
          if (r.done) return;
          yield toWireWatchBatch(id, r.value);
        }
      } catch (e) {
        if (e instanceof WatchCanceledError && isFinal(e)) {
          yield toWireWatchCanceled(id, e.reason, e.compactRevision);
          return;
        }
        if (e instanceof ConnectError && e.code === Code.Canceled) throw e;
        if (e instanceof WatchCanceledError) {
          throw toConnectError(new UnavailableError(e.message));
        }
        throw toConnectError(e);
      } finally {
        open.delete(id);
        w.cancel();
      }
    },

    async watchProgress(
      req: WatchProgressRequest,
    ): Promise<MessageInitShape<typeof WatchProgressResponseSchema>> {
      let id: number;
      try {
        id = fromU64(req.watchId, "watch_id");
      } catch (e) {
        throw toConnectError(e);
      }
      const w = open.get(id);
      w?.requestProgress();
      return { found: w !== undefined };
    },

    async *watchMembers(
      _req: unknown,
      ctx: HandlerContext,
    ): AsyncGenerator<MessageInitShape<typeof WatchMembersResponseSchema>> {
      try {
        for await (const list of api.cluster.watchMembers({ signal: ctx.signal })) {
          yield toWireMembers(list);
        }
      } catch (e) {
        if (e instanceof ConnectError && e.code === Code.Canceled) throw e;
        throw toConnectError(e);
      }
    },
  };
}
