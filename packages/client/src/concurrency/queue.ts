// The fair queue under both the lock and the election (etcd's recipe): every waiter creates one
// key `<prefix><lease-hex>` attached to its session's lease; the store gives it a create revision
// higher than any key before it, so create revisions order the queue. A waiter's turn comes when
// no key with a lower create revision is left under the prefix. Each waiter watches only the
// deletion of the key just before it, so a release wakes one waiter, not all of them (no herd).
import { toBytes } from "../bytes.js";
import { TimeoutError, WatchCanceledError } from "../errors.js";
import type { Bytes, CallOptions, KeyValue } from "../types.js";
import type { CoordinationClient } from "./client.js";
import { AlreadyQueuedError, QueueKeyLostError } from "./errors.js";
import type { Session } from "./session.js";

/** A waiter's place in a queue: its key and the key's create revision. */
export interface QueueTicket {
  readonly key: Uint8Array;
  /** The key as text (names are strings; lease ids are hex). */
  readonly keyText: string;
  /** The key's create revision: its place in the queue, and the fencing token once it leads. */
  readonly revision: number;
}

/** A lock or election name's key prefix: keys of different names must not nest. */
export function queuePrefix(name: string): string {
  if (name.length === 0) throw new TypeError("a lock or election needs a non-empty name");
  return `${name}/`;
}

/**
 * The signal a waiting operation stops on: the caller's signal, its timeout, or the end of the
 * session (whose reason is a SessionEndedError). dispose() clears the timer.
 */
export function waitSignal(
  session: Session,
  opts: CallOptions,
  what: string,
): { readonly signal: AbortSignal; dispose(): void } {
  const signals = [session.signal];
  if (opts.signal) signals.push(opts.signal);
  let timer: ReturnType<typeof setTimeout> | undefined;
  if (opts.timeoutMs !== undefined) {
    const c = new AbortController();
    const ms = opts.timeoutMs;
    timer = setTimeout(
      () => c.abort(new TimeoutError(`${what}: no turn within ${ms} ms`, false)),
      ms,
    );
    signals.push(c.signal);
  }
  return { signal: AbortSignal.any(signals), dispose: () => clearTimeout(timer) };
}

/**
 * Joins the queue: creates the session's key under `prefix` (only if absent, so a session queues
 * once per name) with `value`. If the call fails with an unknown outcome the key may exist: it is
 * removed again, best effort.
 */
export async function enqueue(
  session: Session,
  prefix: string,
  value: Bytes,
  signal: AbortSignal,
): Promise<QueueTicket> {
  session.throwIfEnded();
  const keyText = prefix + session.leaseHex;
  const key = toBytes(keyText);
  let r: Awaited<ReturnType<CoordinationClient["txn"]>>;
  try {
    r = await session.client.txn(
      {
        compare: [{ key, target: "create", result: "=", number: 0 }],
        success: [{ type: "put", key, value, lease: session.leaseId }],
      },
      { signal },
    );
  } catch (e) {
    if ((e as { outcomeUnknown?: boolean }).outcomeUnknown || signal.aborted) {
      await removeSessionKey(session, key).catch(() => undefined);
    }
    throw signal.aborted ? signal.reason : e;
  }
  if (!r.succeeded) throw new AlreadyQueuedError(keyText);
  // A put in a transaction is written at the transaction's revision: the key's create revision.
  return { key, keyText, revision: r.revision };
}

/**
 * The key just before the ticket in the queue (the highest create revision below it), or
 * undefined when the ticket is first. Throws QueueKeyLostError if the ticket's own key is gone
 * (its lease ended): one read shows both, so the answer is consistent.
 */
export async function predecessor(
  client: CoordinationClient,
  prefix: string,
  ticket: QueueTicket,
  signal?: AbortSignal,
): Promise<{ readonly kv: KeyValue | undefined; readonly revision: number }> {
  const r = await client.range({
    prefix,
    maxCreateRevision: ticket.revision,
    sortTarget: "create",
    sortOrder: "descend",
    limit: 2,
    keysOnly: true,
    ...(signal ? { signal } : {}),
  });
  const [mine, before] = r.kvs;
  if (!mine || mine.createRevision !== ticket.revision || !sameBytes(mine.key, ticket.key)) {
    throw new QueueKeyLostError(ticket.keyText);
  }
  return { kv: before, revision: r.revision };
}

/**
 * Waits until the ticket is first in its queue. Rechecks after every wake-up, since the key
 * just before may have been deleted while a still earlier one remains (it left the queue early).
 */
export async function waitForTurn(
  session: Session,
  prefix: string,
  ticket: QueueTicket,
  signal: AbortSignal,
): Promise<void> {
  for (;;) {
    signal.throwIfAborted();
    let before: Awaited<ReturnType<typeof predecessor>>;
    try {
      before = await predecessor(session.client, prefix, ticket, signal);
    } catch (e) {
      throw signal.aborted ? signal.reason : e;
    }
    if (!before.kv) return;
    await waitForDelete(session.client, before.kv.key, before.revision, signal);
  }
}

/** Resolves once `key` is deleted after `revision` (or the watch ends: the caller rechecks). */
async function waitForDelete(
  client: CoordinationClient,
  key: Uint8Array,
  revision: number,
  signal: AbortSignal,
): Promise<void> {
  const watcher = client.watch({ key, startRevision: revision + 1, noPut: true, signal });
  // A watcher that does not end on its own signal still ends when cancelled.
  const onAbort = () => watcher.cancel();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    for await (const resp of watcher) {
      if (resp.events.some((e) => e.type === "delete")) return;
    }
  } catch (e) {
    if (signal.aborted) throw signal.reason;
    // Cancelled by the server (compaction, slow consumer): the caller reads again.
    if (isWatchCanceled(e)) return;
    throw e;
  } finally {
    signal.removeEventListener("abort", onAbort);
    watcher.cancel();
  }
  signal.throwIfAborted();
}

/** Leaves the queue (or gives up the turn): deletes the ticket's key if it is still this one. */
export async function withdraw(
  session: Session,
  ticket: QueueTicket,
  opts: CallOptions = {},
): Promise<boolean> {
  const r = await session.client.txn(
    {
      compare: [{ key: ticket.key, target: "create", result: "=", number: ticket.revision }],
      success: [{ type: "delete", key: ticket.key }],
    },
    opts,
  );
  return r.succeeded;
}

/** Deletes `key` if it is attached to the session's lease (cleanup after an unknown outcome). */
async function removeSessionKey(session: Session, key: Uint8Array): Promise<void> {
  await session.client.txn({
    compare: [{ key, target: "lease", result: "=", number: session.leaseId }],
    success: [{ type: "delete", key }],
  });
}

export function isWatchCanceled(e: unknown): boolean {
  return e instanceof WatchCanceledError;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
