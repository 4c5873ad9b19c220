// The network client's watch: one server stream (WatchService.Watch) at a time, resumed on the
// next endpoint when it breaks (the server died, a proxy dropped it, the node stopped) from the
// last revision delivered + 1, so the application sees every revision once, in order. Any node
// serves a watch from its own state machine (followers apply the same events in the same
// order), so a leader change does not disturb a stream at all. The server's own cancellations
// (compacted start, slow consumer) end the watch with WatchCanceledError.
import type { Client } from "@connectrpc/connect";
import type { WatchService } from "@d-engine/proto/api";
import {
  type DEngineError,
  InvalidArgumentError,
  LimitExceededError,
  WatchCanceledError,
} from "../errors.js";
import type { MemberList } from "../types.js";
import { PullQueue } from "../util/pull-queue.js";
import { fromWireMembers } from "../wire/cluster.js";
import { fromConnectError } from "../wire/errors.js";
import { fromWireWatchResponse, toWireWatchRequest } from "../wire/watch.js";
import type { WatchBatch, Watcher, WatchOptions } from "./types.js";

export interface NetworkWatchDeps {
  /** Base URLs of every endpoint, tried in turn. */
  readonly endpoints: readonly string[];
  /** The index (modulo the endpoints) of the endpoint a new watch tries first. */
  firstEndpoint(): number;
  stub(url: string): Client<typeof WatchService>;
  /** Registers a function the client calls when it closes; returns the unregister. */
  onClose(end: () => void): () => void;
  readonly initialDelayMs: number;
  readonly maxDelayMs: number;
}

/** Errors that no other endpoint would answer differently: the watch itself is wrong. */
function permanent(e: DEngineError): boolean {
  return e instanceof InvalidArgumentError || e instanceof LimitExceededError;
}

/** Batches the client holds for a consumer that has not taken them, before "slow consumer". */
export const MAX_CLIENT_BUFFERED_BATCHES = 10_000;

export function networkWatch(
  opts: WatchOptions,
  deps: NetworkWatchDeps,
  maxBuffered = MAX_CLIENT_BUFFERED_BATCHES,
): Watcher {
  // Validate now (a bad key throws at the call, not at the first next()).
  toWireWatchRequest(opts, opts.startRevision ?? 0);
  const ctl = new AbortController();
  let canceled = false;
  let started = false;
  /** Where the current stream is and its id there (for WatchProgress). */
  let current: { url: string; watchId: number } | undefined;
  let progressWanted = false;
  // The stream is read eagerly into this queue, not at the consumer's pace: a stream whose end
  // sits unread in the connection's buffers when the server closes the connection is never
  // reported as ended (the read hangs), so the watch could not resume.
  const queue = new PullQueue<WatchBatch>();
  const finish = (e?: Error) => {
    if (!queue.end(e)) return;
    ctl.abort();
    unregister();
    opts.signal?.removeEventListener("abort", onAbort);
  };
  const cancel = () => {
    canceled = true;
    queue.discard();
    finish();
  };
  const unregister = deps.onClose(cancel);
  const onAbort = () => cancel();

  const askProgress = () => {
    const c = current;
    if (c === undefined) {
      progressWanted = true;
      return;
    }
    progressWanted = false;
    deps
      .stub(c.url)
      .watchProgress({ watchId: BigInt(c.watchId) }, { signal: ctl.signal })
      .then((r) => {
        // The stream moved (or the server lost the watch): ask again on the new one.
        if (!r.found && current !== undefined && current !== c) askProgress();
      })
      .catch(() => {
        // The stream is breaking too; it resumes, and a resumed stream gets the request.
        if (!canceled) progressWanted = true;
      });
  };

  const deliver = (b: WatchBatch) => {
    if (queue.ended) return;
    if (queue.length >= maxBuffered) {
      finish(
        new WatchCanceledError(
          "slow consumer",
          0,
          `the watch was canceled: slow consumer (more than ${maxBuffered} batches undelivered)`,
        ),
      );
      return;
    }
    queue.push(b);
  };

  async function pump(): Promise<void> {
    /** The last revision delivered (events or progress); undefined: not known yet (start 0). */
    let last = opts.startRevision ? opts.startRevision - 1 : undefined;
    let delay = deps.initialDelayMs;
    let endpoint = deps.firstEndpoint() % deps.endpoints.length;
    while (!queue.ended) {
      const url = deps.endpoints[endpoint % deps.endpoints.length] as string;
      const req = toWireWatchRequest(opts, last === undefined ? 0 : last + 1);
      try {
        for await (const res of deps.stub(url).watch(req, { signal: ctl.signal })) {
          const msg = fromWireWatchResponse(res);
          if (msg.kind === "created") {
            current = { url, watchId: msg.watchId };
            if (last === undefined) last = msg.revision;
            delay = deps.initialDelayMs;
            if (progressWanted) askProgress();
            continue;
          }
          if (msg.kind === "canceled") {
            throw new WatchCanceledError(msg.reason, msg.compactRevision);
          }
          const b = msg.batch;
          // A resumed stream starts at last + 1; anything older would be a duplicate.
          if (last !== undefined && (b.progress ? b.revision < last : b.revision <= last)) {
            continue;
          }
          last = Math.max(last ?? 0, b.revision);
          deliver(b);
        }
        // The server ended the stream without canceling the watch (it is stopping): resume.
      } catch (err) {
        if (queue.ended) return;
        if (err instanceof WatchCanceledError) throw err;
        const e = fromConnectError(err);
        if (permanent(e)) throw e;
      }
      current = undefined;
      if (queue.ended) return;
      // Another endpoint next; back off a little more each time, so a cluster that is down
      // is not hammered.
      endpoint++;
      await sleep(delay * (0.5 + Math.random() / 2), ctl.signal);
      delay = Math.min(delay * 2, deps.maxDelayMs);
    }
  }

  opts.signal?.addEventListener("abort", onAbort, { once: true });
  if (opts.signal?.aborted) cancel();
  else {
    pump().then(
      () => finish(),
      (e: unknown) => finish(e as Error),
    );
  }

  return {
    [Symbol.asyncIterator](): AsyncIterator<WatchBatch> {
      if (started) throw new Error("a watcher can be iterated once");
      started = true;
      return {
        next: () => queue.next(),
        async return(): Promise<IteratorResult<WatchBatch>> {
          cancel();
          return { done: true, value: undefined };
        },
      };
    },
    requestProgress: askProgress,
    cancel,
  };
}

/**
 * The members at once, then after every membership change, from any endpoint; a broken stream
 * resumes on the next one (its first list is skipped if it equals the last one delivered).
 */
export function networkWatchMembers(
  deps: NetworkWatchDeps,
  signal: AbortSignal | undefined,
  maxBuffered = MAX_CLIENT_BUFFERED_BATCHES,
): AsyncIterable<MemberList> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<MemberList> {
      const ctl = new AbortController();
      // Read eagerly, as networkWatch does (an unread end of stream is never reported).
      const queue = new PullQueue<MemberList>();
      const finish = (e?: Error) => {
        if (!queue.end(e)) return;
        ctl.abort();
        unregister();
        signal?.removeEventListener("abort", stop);
      };
      const stop = () => {
        queue.discard();
        finish();
      };
      const unregister = deps.onClose(stop);
      signal?.addEventListener("abort", stop, { once: true });
      const pump = async (): Promise<void> => {
        let lastJson: string | undefined;
        let delay = deps.initialDelayMs;
        let endpoint = deps.firstEndpoint() % deps.endpoints.length;
        while (!queue.ended) {
          const url = deps.endpoints[endpoint % deps.endpoints.length] as string;
          try {
            for await (const res of deps.stub(url).watchMembers({}, { signal: ctl.signal })) {
              const list = fromWireMembers(res.members, res.leaderId);
              delay = deps.initialDelayMs;
              const json = JSON.stringify(list);
              if (json === lastJson) continue;
              lastJson = json;
              if (queue.length >= maxBuffered) throw new WatchCanceledError("slow consumer");
              queue.push(list);
            }
          } catch (err) {
            if (queue.ended) return;
            if (err instanceof WatchCanceledError) throw err;
            const e = fromConnectError(err);
            if (permanent(e)) throw e;
          }
          if (queue.ended) return;
          endpoint++;
          await sleep(delay * (0.5 + Math.random() / 2), ctl.signal);
          delay = Math.min(delay * 2, deps.maxDelayMs);
        }
      };
      if (signal?.aborted) stop();
      else {
        pump().then(
          () => finish(),
          (e: unknown) => finish(e as Error),
        );
      }
      return {
        next: () => queue.next(),
        async return(): Promise<IteratorResult<MemberList>> {
          stop();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
