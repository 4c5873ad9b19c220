// The receiving side of snapshot traffic: RaftPeerService/InstallSnapshot on a ConnectRouter.
// InstallSnapshot streams write a snapshot's chunks into the engine's SnapshotReceiver, checking
// each chunk's CRC32C and offset. (Replicate, the hot path, is replicate-server.ts.)
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, type ConnectRouter, type HandlerContext } from "@connectrpc/connect";
import {
  type InstallSnapshotRequest,
  InstallSnapshotResponseSchema,
  RaftPeerService,
} from "@d-engine/proto/peer";
import { snapshotMetadataFromProto } from "@d-engine/proto/raft-codec";
import { crc32c } from "@node-rs/crc32";
import { consoleLogger, type TransportLogger } from "../log.js";
import { nextOrStop } from "../util/channel.js";
import { checkHello } from "./hello.js";
import type { PeerHandler, PeerIdentity, SnapshotReceiver } from "./types.js";

/** The largest snapshot chunk a receiver accepts in one frame. */
export const MAX_SNAPSHOT_CHUNK_BYTES = 8 * 1024 * 1024;

export interface PeerRoutesOptions {
  readonly logger?: TransportLogger;
  /** Aborts when the server shuts down: open streams end (the callers reconnect elsewhere). */
  readonly shutdownSignal?: AbortSignal;
}

/** A request-stream failure: a frame that does not parse is the caller's fault. */
function requestError(e: unknown): ConnectError {
  const ce = ConnectError.from(e);
  if (ce.code === Code.Internal && /^parse (binary|JSON)/.test(ce.rawMessage)) {
    return new ConnectError(`malformed frame: ${ce.rawMessage}`, Code.InvalidArgument);
  }
  return ce;
}

async function next<T>(
  it: AsyncIterator<T>,
  stop: AbortSignal,
): Promise<IteratorResult<T, undefined>> {
  try {
    return await nextOrStop(it, stop);
  } catch (e) {
    throw requestError(e);
  }
}

function stopSignal(ctx: HandlerContext, shutdown: AbortSignal | undefined): AbortSignal {
  return shutdown ? AbortSignal.any([ctx.signal, shutdown]) : ctx.signal;
}

/** Registers RaftPeerService for `identity`, delivering to `handler`. */
export function peerRoutes(
  identity: PeerIdentity,
  handler: PeerHandler,
  opts: PeerRoutesOptions = {},
): (router: ConnectRouter) => void {
  const logger = opts.logger ?? consoleLogger;

  async function* installSnapshot(
    requests: AsyncIterable<InstallSnapshotRequest>,
    ctx: HandlerContext,
  ) {
    const it = requests[Symbol.asyncIterator]();
    const stop = stopSignal(ctx, opts.shutdownSignal);
    const first = await next(it, stop);
    if (first.done) return;
    const header = first.value.header;
    if (!header) {
      throw new ConnectError("the first frame carries no snapshot header", Code.InvalidArgument);
    }
    const hello = checkHello(identity, header.hello, "InstallSnapshot", logger);
    let metadata: ReturnType<typeof snapshotMetadataFromProto>;
    try {
      metadata = snapshotMetadataFromProto(header.metadata);
    } catch (e) {
      throw new ConnectError(`malformed snapshot header: ${String(e)}`, Code.InvalidArgument);
    }
    if (
      header.term > BigInt(Number.MAX_SAFE_INTEGER) ||
      header.totalBytes > BigInt(Number.MAX_SAFE_INTEGER)
    ) {
      throw new ConnectError(
        "snapshot header: term or total_bytes too large",
        Code.InvalidArgument,
      );
    }
    const totalBytes = Number(header.totalBytes);
    let receiver: SnapshotReceiver;
    try {
      receiver = await handler.receiveSnapshot({
        from: hello.from,
        term: Number(header.term),
        metadata,
        totalBytes,
        crc32c: header.crc32c,
      });
    } catch (e) {
      const message = e instanceof Error ? e.message : String(e);
      throw new ConnectError(`snapshot refused: ${message}`, Code.FailedPrecondition);
    }
    let offset = receiver.resumeOffset;
    let finished = false;
    try {
      if (!Number.isSafeInteger(offset) || offset < 0 || offset > totalBytes) {
        throw new ConnectError(
          `the receiver's resume offset ${offset} is outside the snapshot's ${totalBytes} bytes`,
          Code.Internal,
        );
      }
      yield create(InstallSnapshotResponseSchema, { resumeOffset: BigInt(offset) });
      for (;;) {
        const r = await next(it, stop);
        if (r.done) {
          throw new ConnectError(
            `the transfer broke off at offset ${offset} of ${totalBytes}`,
            Code.Aborted,
          );
        }
        const f = r.value;
        if (f.data.length > 0) {
          if (f.offset !== BigInt(offset)) {
            throw new ConnectError(
              `chunk at offset ${f.offset}, expected ${offset}`,
              Code.InvalidArgument,
            );
          }
          if (f.data.length > MAX_SNAPSHOT_CHUNK_BYTES) {
            throw new ConnectError(
              `chunk of ${f.data.length} bytes, at most ${MAX_SNAPSHOT_CHUNK_BYTES} allowed`,
              Code.InvalidArgument,
            );
          }
          if (offset + f.data.length > totalBytes) {
            throw new ConnectError(
              `chunk at ${offset} of ${f.data.length} bytes runs past the snapshot's ${totalBytes} bytes`,
              Code.InvalidArgument,
            );
          }
          const crc = crc32c(f.data);
          if (crc !== f.crc32c) {
            // Nothing of the damaged chunk is written; the sender resumes from `offset`.
            throw new ConnectError(
              `chunk at offset ${offset} failed its CRC32C (got ${crc}, frame says ${f.crc32c})`,
              Code.DataLoss,
            );
          }
          await receiver.write(offset, f.data);
          offset += f.data.length;
        }
        if (f.last) {
          if (offset !== totalBytes) {
            throw new ConnectError(
              `last chunk at ${offset}, the snapshot has ${totalBytes} bytes`,
              Code.InvalidArgument,
            );
          }
          try {
            await receiver.finish();
          } catch (e) {
            const message = e instanceof Error ? e.message : String(e);
            throw new ConnectError(`snapshot did not verify: ${message}`, Code.DataLoss);
          }
          finished = true;
          yield create(InstallSnapshotResponseSchema, { done: true });
          return;
        }
      }
    } finally {
      if (!finished) {
        await receiver.abort(new Error(`transfer ended at offset ${offset}`)).catch(() => {});
      }
    }
  }

  return (router) => {
    // Replicate is served on the HTTP/2 stream itself (replicate-server.ts, routed there by
    // startNodeServer); this router answers it Unimplemented if it ever gets it.
    router.service(RaftPeerService, { installSnapshot });
  };
}
