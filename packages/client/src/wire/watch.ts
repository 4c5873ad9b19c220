// WatchService: requests and stream messages, both ways. A watch's key selection travels as
// etcd's (key, range_end): the client turns a prefix into its range end, the server turns the
// pair back into WatchOptions (the engine's hub reads range_end "\0" as "every key from key on").
import { create } from "@bufbuild/protobuf";
import {
  type WatchEvent as PbWatchEvent,
  WatchEventSchema,
  WatchEventType,
  type WatchRequest,
  WatchRequestSchema,
  type WatchResponse,
  WatchResponseSchema,
} from "@d-engine/proto/api";
import { prefixEnd, toBytes } from "../bytes.js";
import { InvalidArgumentError } from "../errors.js";
import type { WatchBatch, WatchEvent, WatchOptions } from "../watch/types.js";
import { fromU64, toU64 } from "./numbers.js";
import { fromWireKeyValue, requireKey, toWireKeyValue } from "./values.js";

/** The key range of a watch as (key, rangeEnd), rangeEnd empty for one key. */
export function watchKeyRange(o: WatchOptions): { key: Uint8Array; rangeEnd: Uint8Array } {
  if (o.prefix !== undefined) {
    const p = toBytes(o.prefix);
    if (p.length === 0) return { key: Uint8Array.of(0), rangeEnd: Uint8Array.of(0) };
    return { key: p, rangeEnd: prefixEnd(p) };
  }
  if (o.key === undefined) throw new InvalidArgumentError("watch needs a key or a prefix");
  const key = toBytes(o.key);
  return { key, rangeEnd: o.rangeEnd === undefined ? new Uint8Array(0) : toBytes(o.rangeEnd) };
}

/** The request for a watch starting at `startRevision` (a resumed watch: last seen + 1). */
export function toWireWatchRequest(o: WatchOptions, startRevision: number): WatchRequest {
  const { key, rangeEnd } = watchKeyRange(o);
  requireKey(key, "watch key");
  return create(WatchRequestSchema, {
    key,
    rangeEnd,
    startRevision: toU64(startRevision, "start_revision"),
    prevKv: o.prevKv ?? false,
    noPut: o.noPut ?? false,
    noDelete: o.noDelete ?? false,
    progressNotify: o.progressNotify ?? false,
  });
}

export function fromWireWatchRequest(req: WatchRequest): WatchOptions {
  requireKey(req.key, "key");
  const start = fromU64(req.startRevision, "start_revision");
  return {
    key: req.key,
    ...(req.rangeEnd.length > 0 ? { rangeEnd: req.rangeEnd } : {}),
    ...(start > 0 ? { startRevision: start } : {}),
    ...(req.prevKv ? { prevKv: true } : {}),
    ...(req.noPut ? { noPut: true } : {}),
    ...(req.noDelete ? { noDelete: true } : {}),
    ...(req.progressNotify ? { progressNotify: true } : {}),
  };
}

function toWireEvent(e: WatchEvent): PbWatchEvent {
  return create(WatchEventSchema, {
    type: e.type === "put" ? WatchEventType.PUT : WatchEventType.DELETE,
    kv: toWireKeyValue(e.kv),
    ...(e.prevKv ? { prevKv: toWireKeyValue(e.prevKv) } : {}),
  });
}

function fromWireEvent(e: PbWatchEvent, i: number): WatchEvent {
  const field = `events[${i}]`;
  if (!e.kv) throw new InvalidArgumentError(`${field}.kv is missing`);
  let type: "put" | "delete";
  if (e.type === WatchEventType.PUT) type = "put";
  else if (e.type === WatchEventType.DELETE) type = "delete";
  else throw new InvalidArgumentError(`${field}.type ${e.type} is not put or delete`);
  const kv = fromWireKeyValue(e.kv, `${field}.kv`);
  return e.prevKv
    ? { type, kv, prevKv: fromWireKeyValue(e.prevKv, `${field}.prev_kv`) }
    : { type, kv };
}

export function toWireWatchBatch(watchId: number, b: WatchBatch): WatchResponse {
  return create(WatchResponseSchema, {
    watchId: toU64(watchId, "watch_id"),
    revision: toU64(b.revision, "revision"),
    events: b.events.map(toWireEvent),
    progress: b.progress,
  });
}

export function toWireWatchCreated(watchId: number, revision: number): WatchResponse {
  return create(WatchResponseSchema, {
    watchId: toU64(watchId, "watch_id"),
    revision: toU64(revision, "revision"),
    created: true,
  });
}

export function toWireWatchCanceled(
  watchId: number,
  reason: string,
  compactRevision: number,
): WatchResponse {
  return create(WatchResponseSchema, {
    watchId: toU64(watchId, "watch_id"),
    canceled: true,
    cancelReason: reason,
    compactRevision: toU64(compactRevision, "compact_revision"),
  });
}

/** A stream message as the client reads it. */
export type WatchMessage =
  | { readonly kind: "created"; readonly watchId: number; readonly revision: number }
  | {
      readonly kind: "canceled";
      readonly reason: string;
      readonly compactRevision: number;
    }
  | { readonly kind: "batch"; readonly batch: WatchBatch };

export function fromWireWatchResponse(res: WatchResponse): WatchMessage {
  const revision = fromU64(res.revision, "revision");
  if (res.created) {
    return { kind: "created", watchId: fromU64(res.watchId, "watch_id"), revision };
  }
  if (res.canceled) {
    return {
      kind: "canceled",
      reason: res.cancelReason,
      compactRevision: fromU64(res.compactRevision, "compact_revision"),
    };
  }
  return {
    kind: "batch",
    batch: { revision, events: res.events.map(fromWireEvent), progress: res.progress },
  };
}
