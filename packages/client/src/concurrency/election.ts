// Leader election over the same fair queue as the lock (queue.ts): each candidate's key holds
// its value; the candidate whose key has the lowest create revision leads. The leader's key
// revision is its term's token (higher for every later leader), and it stays leader until it
// resigns or its session's lease ends. proclaim changes the leader's value only while its key
// still exists (a transaction compares the key's create revision), so a deposed leader cannot
// overwrite anything. Observers need no session: they read the prefix and watch it.
import { text, toBytes } from "../bytes.js";
import type { Bytes, CallOptions, KeyValue, ReadOptions } from "../types.js";
import type { CoordinationClient } from "./client.js";
import { NotElectionLeaderError } from "./errors.js";
import {
  enqueue,
  isWatchCanceled,
  type QueueTicket,
  queuePrefix,
  waitForTurn,
  waitSignal,
  withdraw,
} from "./queue.js";
import type { Session } from "./session.js";

/** The current leader of an election, as the store shows it. */
export interface ElectionLeader {
  readonly key: Uint8Array;
  readonly keyText: string;
  readonly value: Uint8Array;
  /** The leader key's create revision: increases with every new leader. */
  readonly revision: number;
  /** The revision of the latest proclaim (or of the campaign). */
  readonly modRevision: number;
  readonly lease: number;
}

/** What campaign returns: this candidate leads. */
export interface Leadership {
  readonly election: string;
  readonly key: Uint8Array;
  readonly keyText: string;
  /** The leader key's create revision (a fencing token for the leader's actions). */
  readonly revision: number;
}

export class Election {
  private readonly prefix: string;
  private ticket: QueueTicket | undefined;
  private busy = false;

  constructor(
    readonly session: Session,
    readonly name: string,
  ) {
    this.prefix = queuePrefix(name);
  }

  /** Leadership while this candidate believes it leads (elected, not resigned, session alive). */
  get leadership(): Leadership | undefined {
    if (this.session.isEnded) return undefined;
    return this.ticket && this.handle(this.ticket);
  }

  /**
   * Becomes a candidate with `value` and waits until it leads. Candidates lead in the order they
   * campaigned. Stops with the caller's signal, timeoutMs or the end of the session, withdrawing
   * the candidacy.
   */
  async campaign(value: Bytes, opts: CallOptions = {}): Promise<Leadership> {
    if (this.busy || this.ticket) {
      throw new Error(`election ${this.name}: this Election already campaigns or leads`);
    }
    this.busy = true;
    const { signal, dispose } = waitSignal(this.session, opts, `election ${this.name}`);
    try {
      const ticket = await enqueue(this.session, this.prefix, value, signal);
      try {
        await waitForTurn(this.session, this.prefix, ticket, signal);
      } catch (e) {
        await withdraw(this.session, ticket).catch(() => undefined);
        throw e;
      }
      this.ticket = ticket;
      return this.handle(ticket);
    } finally {
      dispose();
      this.busy = false;
    }
  }

  /**
   * Sets the leader's value, if this candidate still leads (its key exists with its revision);
   * throws NotElectionLeaderError otherwise. Returns the revision of the change.
   */
  async proclaim(value: Bytes, opts: CallOptions = {}): Promise<number> {
    const t = this.ticket;
    if (!t) throw new NotElectionLeaderError(this.name);
    const r = await this.session.client.txn(
      {
        compare: [{ key: t.key, target: "create", result: "=", number: t.revision }],
        success: [{ type: "put", key: t.key, value, lease: this.session.leaseId }],
      },
      opts,
    );
    if (!r.succeeded) {
      this.ticket = undefined;
      throw new NotElectionLeaderError(this.name);
    }
    return r.revision;
  }

  /**
   * Gives up leadership: deletes the leader key, so the next candidate leads. Resolves true if
   * this candidate still led, false if it no longer did (or never did).
   */
  async resign(opts: CallOptions = {}): Promise<boolean> {
    const t = this.ticket;
    if (!t) return false;
    const r = await withdraw(this.session, t, opts);
    this.ticket = undefined;
    return r;
  }

  /** The current leader, or undefined if nobody campaigns. */
  leader(opts: ReadOptions = {}): Promise<ElectionLeader | undefined> {
    return electionLeader(this.session.client, this.name, opts);
  }

  /** The leader now, then every change of leader or of its value (see observeElection). */
  observe(
    opts: { readonly signal?: AbortSignal } = {},
  ): AsyncGenerator<ElectionLeader | undefined> {
    return observeElection(this.session.client, this.name, opts);
  }

  private handle(t: QueueTicket): Leadership {
    return { election: this.name, key: t.key, keyText: t.keyText, revision: t.revision };
  }
}

/** The current leader of election `name` (the lowest create revision), or undefined. */
export async function electionLeader(
  client: Pick<CoordinationClient, "range">,
  name: string,
  opts: ReadOptions = {},
): Promise<ElectionLeader | undefined> {
  const r = await client.range({
    ...opts,
    prefix: queuePrefix(name),
    sortTarget: "create",
    sortOrder: "ascend",
    limit: 1,
  });
  const kv = r.kvs[0];
  return kv && toLeader(kv);
}

/**
 * Yields the leader of election `name` now (undefined: nobody campaigns), then every change:
 * a new leader, a proclaimed value, or no leader. It reads every candidate once and then follows
 * a watch on the prefix from the revision it read at, so no change is missed or seen twice; if
 * the server cancels the watch (compaction), it reads again. Ends when `signal` aborts or the
 * consumer stops iterating.
 */
export async function* observeElection(
  client: Pick<CoordinationClient, "range" | "watch">,
  name: string,
  opts: { readonly signal?: AbortSignal } = {},
): AsyncGenerator<ElectionLeader | undefined> {
  const prefix = toBytes(queuePrefix(name));
  const signal = opts.signal;
  let last: ElectionLeader | undefined | null = null; // null: nothing yielded yet
  const changed = (now: ElectionLeader | undefined): boolean => {
    if (last === null) return true;
    if (!last || !now) return last !== now;
    return last.revision !== now.revision || last.modRevision !== now.modRevision;
  };
  while (!signal?.aborted) {
    let read: Awaited<ReturnType<CoordinationClient["range"]>>;
    try {
      read = await client.range({ prefix, ...(signal ? { signal } : {}) });
    } catch (e) {
      if (signal?.aborted) return;
      throw e;
    }
    const candidates = new Map<string, KeyValue>();
    for (const kv of read.kvs) candidates.set(keyId(kv.key), kv);
    let now = lowest(candidates);
    if (changed(now)) {
      last = now;
      yield now;
    }
    const watcher = client.watch({
      prefix,
      startRevision: read.revision + 1,
      ...(signal ? { signal } : {}),
    });
    const onAbort = () => watcher.cancel();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      for await (const resp of watcher) {
        for (const ev of resp.events) {
          if (ev.type === "put") candidates.set(keyId(ev.kv.key), ev.kv);
          else candidates.delete(keyId(ev.kv.key));
        }
        now = lowest(candidates);
        if (changed(now)) {
          last = now;
          yield now;
        }
      }
    } catch (e) {
      if (signal?.aborted) return;
      if (!isWatchCanceled(e)) throw e;
      // Cancelled by the server (e.g. compaction): read the candidates again.
    } finally {
      signal?.removeEventListener("abort", onAbort);
      watcher.cancel();
    }
  }
}

function lowest(candidates: ReadonlyMap<string, KeyValue>): ElectionLeader | undefined {
  let best: KeyValue | undefined;
  for (const kv of candidates.values()) {
    if (!best || kv.createRevision < best.createRevision) best = kv;
  }
  return best && toLeader(best);
}

function toLeader(kv: KeyValue): ElectionLeader {
  return {
    key: kv.key,
    keyText: text(kv.key),
    value: kv.value,
    revision: kv.createRevision,
    modRevision: kv.modRevision,
    lease: kv.lease,
  };
}

/** A map key for bytes (hex, so any key works). */
function keyId(key: Uint8Array): string {
  let s = "";
  for (const b of key) s += b.toString(16).padStart(2, "0");
  return s;
}
