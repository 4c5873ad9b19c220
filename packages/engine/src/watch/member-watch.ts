// The membership watch: the current members at once, then the members after every committed
// membership change (or installed snapshot) on this node. A consumer that lets too many lists
// pile up is ended with WatchCanceledError("slow consumer") rather than skipped.

import { type CallOptions, type MemberList, WatchCanceledError } from "@d-engine/client";

/** What the watch reads: the node's applied membership. */
export interface MemberSource {
  list(): MemberList;
  onChange(listener: () => void): () => void;
  /** Calls `listener` when the node stops (the watch ends with WatchCanceledError). */
  onClose?(listener: (reason: string) => void): () => void;
}

export const MAX_PENDING_MEMBER_LISTS = 1_000;

export function watchMembers(
  src: MemberSource,
  opts: CallOptions = {},
  maxPending = MAX_PENDING_MEMBER_LISTS,
): AsyncIterable<MemberList> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<MemberList> {
      const pending: MemberList[] = [src.list()];
      let ended: { error?: Error } | undefined;
      let wake: (() => void) | undefined;
      const finish = (e?: { error?: Error }) => {
        if (ended !== undefined) return;
        ended = e ?? {};
        unsubscribe();
        unsubscribeClose();
        opts.signal?.removeEventListener("abort", onAbort);
        wake?.();
      };
      const onAbort = () => {
        pending.length = 0;
        finish();
      };
      const unsubscribe = src.onChange(() => {
        if (ended !== undefined) return;
        if (pending.length >= maxPending) {
          finish({ error: new WatchCanceledError("slow consumer") });
          return;
        }
        pending.push(src.list());
        wake?.();
      });
      let unsubscribeClose: () => void = () => {};
      unsubscribeClose =
        src.onClose?.((reason) => finish({ error: new WatchCanceledError(reason) })) ??
        unsubscribeClose;
      opts.signal?.addEventListener("abort", onAbort, { once: true });
      if (opts.signal?.aborted) onAbort();
      return {
        async next(): Promise<IteratorResult<MemberList>> {
          for (;;) {
            const m = pending.shift();
            if (m !== undefined) return { done: false, value: m };
            if (ended !== undefined) {
              const e = ended.error;
              ended = {};
              if (e !== undefined) throw e;
              return { done: true, value: undefined };
            }
            await new Promise<void>((r) => {
              wake = r;
            });
            wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<MemberList>> {
          pending.length = 0;
          finish();
          return { done: true, value: undefined };
        },
      };
    },
  };
}
