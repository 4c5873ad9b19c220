// An in-memory stand-in for a d-engine client, just enough of the etcd model for the lock and
// election unit tests: revisions, create revisions, leases that delete their keys, transactions
// with compares, ranges with create-revision filters and sorting, and watches from a revision.
// It also counts open watches per key, so a test can check that waiters do not herd.
import { toBytes } from "../../bytes.js";
import { WatchCanceledError } from "../../errors.js";
import type {
  CallOptions,
  KeyValue,
  RangeOptions,
  RangeResult,
  Txn,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnResult,
} from "../../types.js";
import type {
  CoordinationClient,
  CoordinationLeaseKeeper,
  CoordinationWatchEvent,
  CoordinationWatcher,
  CoordinationWatchOptions,
  CoordinationWatchResponse,
} from "../client.js";

const hex = (b: Uint8Array) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
const startsWith = (k: Uint8Array, p: Uint8Array) =>
  k.length >= p.length && p.every((x, i) => k[i] === x);

interface Batch {
  readonly revision: number;
  readonly events: CoordinationWatchEvent[];
}

export class FakeCoordination implements CoordinationClient {
  revision = 1;
  private readonly kvs = new Map<string, KeyValue>();
  private readonly history: Batch[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly killers = new Set<(e: Error) => void>();
  private readonly leaseKeys = new Map<number, Set<string>>();
  private readonly keepers = new Map<number, (reason: string) => void>();
  private nextLease = 0x1000;
  private readonly ttls = new Map<number, number>();
  /** Open watches by the hex of the watched key (or "prefix:" + hex). */
  readonly openWatches = new Map<string, number>();
  /** Watches started so far. */
  watchesStarted = 0;

  readonly leases = {
    grant: async (ttlSeconds: number) => {
      const id = this.nextLease++;
      this.leaseKeys.set(id, new Set());
      this.ttls.set(id, ttlSeconds);
      return { id, ttlSeconds };
    },
    revoke: async (id: number) => {
      this.endLease(id);
      return { revision: this.revision };
    },
    keepAliveOnce: async (id: number) => {
      if (!this.leaseKeys.has(id))
        throw Object.assign(new Error("fake: lease not found"), { kvCode: "lease-not-found" });
      return { id, ttlSeconds: this.ttls.get(id) ?? 0 };
    },
    keepAlive: (id: number): CoordinationLeaseKeeper => {
      let lose: (r: { reason: string }) => void = () => {};
      const lost = new Promise<{ reason: string }>((resolve) => {
        lose = resolve;
      });
      const keeper = {
        id,
        lost,
        deadlineMs: undefined,
        stopped: false,
        on: () => () => {},
        stop: async () => {
          keeper.stopped = true;
          this.keepers.delete(id);
        },
      };
      this.keepers.set(id, (reason) => {
        keeper.stopped = true;
        lose({ reason });
      });
      return keeper;
    },
  };

  /** The lease expires on the "server": its keys go, its keeper reports it lost. */
  expire(id: number): void {
    this.endLease(id);
    this.keepers.get(id)?.("lease expired");
  }

  /** The server ends every open watch (as after a compaction or for a slow consumer). */
  cancelWatches(reason = "slow consumer"): void {
    for (const k of [...this.killers]) k(new WatchCanceledError(reason));
  }

  leaseExists(id: number): boolean {
    return this.leaseKeys.has(id);
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    await Promise.resolve();
    opts.signal?.throwIfAborted();
    let kvs = this.select(opts);
    if (opts.maxCreateRevision)
      kvs = kvs.filter((kv) => kv.createRevision <= (opts.maxCreateRevision ?? 0));
    if (opts.sortTarget === "create") {
      kvs.sort((a, b) => a.createRevision - b.createRevision);
      if (opts.sortOrder === "descend") kvs.reverse();
    }
    const count = kvs.length;
    if (opts.limit) kvs = kvs.slice(0, opts.limit);
    return { revision: this.revision, kvs, more: kvs.length < count, count };
  }

  async txn(t: Txn, opts: CallOptions = {}): Promise<TxnResult> {
    await Promise.resolve();
    opts.signal?.throwIfAborted();
    const succeeded = t.compare.every((c) => this.check(c));
    const ops = (succeeded ? t.success : t.failure) ?? [];
    const events: CoordinationWatchEvent[] = [];
    const writes = ops.some((o) => o.type !== "get");
    const rev = writes ? this.revision + 1 : this.revision;
    const results: TxnOpResult[] = ops.map((o) => this.apply(o, rev, events));
    if (events.length > 0) this.commit(rev, events);
    return { revision: this.revision, succeeded, results };
  }

  watch(opts: CoordinationWatchOptions): CoordinationWatcher {
    const fake = this;
    const key = opts.key === undefined ? undefined : toBytes(opts.key);
    const prefix = toBytes(opts.prefix ?? new Uint8Array());
    const id = key ? hex(key) : `prefix:${hex(prefix)}`;
    let cancelled = false;
    let killedWith: Error | undefined;
    let wake: () => void = () => {};
    const kill = (e: Error) => {
      killedWith = e;
      wake();
    };
    const cancel = () => {
      cancelled = true;
      wake();
    };
    opts.signal?.addEventListener("abort", cancel, { once: true });
    const matches = (k: Uint8Array) => (key ? hex(k) === hex(key) : startsWith(k, prefix));
    async function* run(): AsyncGenerator<CoordinationWatchResponse> {
      fake.openWatches.set(id, (fake.openWatches.get(id) ?? 0) + 1);
      fake.killers.add(kill);
      fake.watchesStarted++;
      let next = opts.startRevision ?? fake.revision + 1;
      try {
        while (!cancelled) {
          if (killedWith) throw killedWith;
          const batches = fake.history.filter((b) => b.revision >= next);
          for (const b of batches) {
            next = b.revision + 1;
            const events = b.events.filter(
              (e) =>
                matches(e.kv.key) &&
                !(opts.noPut && e.type === "put") &&
                !(opts.noDelete && e.type === "delete"),
            );
            if (events.length > 0) yield { revision: b.revision, events, progress: false };
            if (cancelled) return;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            fake.wakers.add(resolve);
          });
          fake.wakers.delete(wake);
        }
      } finally {
        fake.killers.delete(kill);
        fake.openWatches.set(id, (fake.openWatches.get(id) ?? 1) - 1);
      }
    }
    const it = run();
    return {
      cancel,
      requestProgress: () => {},
      [Symbol.asyncIterator]: () => it,
    };
  }

  private select(opts: RangeOptions): KeyValue[] {
    const all = [...this.kvs.values()].sort((a, b) => (hex(a.key) < hex(b.key) ? -1 : 1));
    if (opts.prefix !== undefined) {
      const p = toBytes(opts.prefix);
      return all.filter((kv) => startsWith(kv.key, p));
    }
    const k = hex(toBytes(opts.key ?? ""));
    return all.filter((kv) => hex(kv.key) === k);
  }

  private check(c: TxnCompare): boolean {
    const kv = this.kvs.get(hex(toBytes(c.key)));
    const n = kv
      ? { create: kv.createRevision, mod: kv.modRevision, version: kv.version, lease: kv.lease }
      : { create: 0, mod: 0, version: 0, lease: 0 };
    if (c.target === "value") throw new Error("fake: value compares are not supported");
    const a = n[c.target];
    const b = c.number ?? 0;
    return c.result === "="
      ? a === b
      : c.result === "!="
        ? a !== b
        : c.result === "<"
          ? a < b
          : a > b;
  }

  private apply(o: TxnOp, rev: number, events: CoordinationWatchEvent[]): TxnOpResult {
    const key = toBytes(o.key);
    const id = hex(key);
    const prev = this.kvs.get(id);
    if (o.type === "get") {
      const kvs = prev ? [prev] : [];
      return { type: "get", revision: this.revision, kvs, more: false, count: kvs.length };
    }
    if (o.type === "put") {
      const lease = o.lease ?? 0;
      if (lease && !this.leaseKeys.has(lease)) throw new Error("fake: lease not found");
      if (prev?.lease) this.leaseKeys.get(prev.lease)?.delete(id);
      const kv: KeyValue = {
        key,
        value: toBytes(o.value),
        createRevision: prev?.createRevision ?? rev,
        modRevision: rev,
        version: (prev?.version ?? 0) + 1,
        lease,
      };
      this.kvs.set(id, kv);
      if (lease) this.leaseKeys.get(lease)?.add(id);
      events.push({ type: "put", kv });
      return { type: "put", revision: rev };
    }
    if (!prev) return { type: "delete", revision: rev, deleted: 0, prevKvs: [] };
    this.removeKey(id, rev, events);
    return { type: "delete", revision: rev, deleted: 1, prevKvs: [] };
  }

  private removeKey(id: string, rev: number, events: CoordinationWatchEvent[]): void {
    const prev = this.kvs.get(id);
    if (!prev) return;
    this.kvs.delete(id);
    if (prev.lease) this.leaseKeys.get(prev.lease)?.delete(id);
    events.push({
      type: "delete",
      kv: { ...prev, value: new Uint8Array(), modRevision: rev, version: 0, createRevision: 0 },
    });
  }

  private endLease(id: number): void {
    const keys = this.leaseKeys.get(id);
    if (!keys) return;
    this.leaseKeys.delete(id);
    const events: CoordinationWatchEvent[] = [];
    const rev = this.revision + 1;
    for (const k of [...keys]) this.removeKey(k, rev, events);
    if (events.length > 0) this.commit(rev, events);
  }

  private commit(rev: number, events: CoordinationWatchEvent[]): void {
    this.revision = rev;
    this.history.push({ revision: rev, events });
    for (const w of [...this.wakers]) w();
    this.wakers.clear();
  }
}
