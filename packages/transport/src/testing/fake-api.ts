// A small in-memory DEngineClient for the transport's tests: a sorted map with revisions,
// sessions that dedup retried writes, and hooks to fail calls. Not a state machine: just enough
// to prove that every call and every error crosses the wire intact.
import {
  type AddLearnerOptions,
  type Bytes,
  type CallOptions,
  type ClusterApi,
  type DEngineClient,
  type DeleteOptions,
  type KeyValue,
  type MaintenanceApi,
  type Member,
  NotLeaderError,
  type PutOptions,
  prefixEnd,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type Txn,
  type TxnCompare,
  type TxnOpResult,
  toBytes,
  type Watcher,
  type WatchOptions,
  type WriteSession,
} from "@d-engine/client";
import { FakeLeases } from "./fake-leases.js";
import { FakeWatches } from "./fake-watches.js";

export interface RecordedCall {
  readonly method: string;
  readonly opts: object | undefined;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

function cmp(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export class FakeApi implements DEngineClient {
  readonly calls: RecordedCall[] = [];
  /** Runs before every call; throw to fail it. */
  before: ((method: string, opts: RecordedCall["opts"]) => void | Promise<void>) | undefined;
  /** Runs after a write applied, before it answers; throw to lose the answer. */
  after: ((method: string) => void | Promise<void>) | undefined;
  /** When set, every KV call fails with NotLeaderError pointing there. */
  notLeader: { id: number; address: string } | undefined;
  applied = 0;
  private readonly data = new Map<string, KeyValue>();
  private readonly answers = new Map<string, unknown>();
  private revision = 0;
  members: Member[] = [
    {
      id: 1,
      role: "voter",
      clientAddress: "127.0.0.1:1",
      peerAddress: "127.0.0.1:2",
      readOnly: false,
    },
  ];
  leaderInfo = { leaderId: 1, leaderAddress: "", term: 3 };
  snapshot = new Uint8Array(0);
  readonly cluster: ClusterApi;
  readonly maintenance: MaintenanceApi;
  readonly leases = new FakeLeases();
  /** Watches: tests append revisions with watches.emit(). */
  readonly watches = new FakeWatches();

  constructor(readonly nodeId = 1) {
    const self = this;
    this.cluster = {
      async members(opts) {
        await self.enter("members", opts);
        return { members: self.members, leaderId: self.leaderInfo.leaderId };
      },
      async addLearner(opts: AddLearnerOptions) {
        await self.enter("addLearner", opts);
        self.members = [
          ...self.members,
          {
            id: opts.id,
            role: "learner",
            clientAddress: opts.clientAddress,
            peerAddress: opts.peerAddress,
            readOnly: opts.readOnly ?? false,
          },
        ];
        return { members: self.members, leaderId: self.leaderInfo.leaderId };
      },
      async promote(id, opts) {
        await self.enter("promote", opts);
        self.members = self.members.map((m) => (m.id === id ? { ...m, role: "voter" } : m));
        return { members: self.members, leaderId: self.leaderInfo.leaderId };
      },
      async removeMember(id, opts) {
        await self.enter("removeMember", opts);
        self.members = self.members.filter((m) => m.id !== id);
        return { members: self.members, leaderId: self.leaderInfo.leaderId };
      },
      async transferLeader(to, opts) {
        await self.enter("transferLeader", opts);
        return { leaderId: to ?? 2 };
      },
      async leader(opts) {
        self.calls.push({ method: "leader", opts: opts as never });
        return self.leaderInfo;
      },
      watchMembers(opts) {
        return self.watches.watchMembers(
          () => ({ members: self.members, leaderId: self.leaderInfo.leaderId }),
          opts?.signal,
        );
      },
      async status(opts) {
        await self.enter("status", opts);
        return {
          id: self.nodeId,
          clusterId: "test",
          role: "leader",
          term: 3,
          leaderId: 1,
          commitIndex: 10,
          appliedIndex: 10,
          lastIndex: 11,
          snapshotIndex: 5,
          revision: self.revision,
          members: self.members,
          matchIndex: { 2: 9, 3: 11 },
        };
      },
    };
    this.maintenance = {
      async takeSnapshot(opts) {
        await self.enter("takeSnapshot", opts);
        return { index: 10, term: 3, bytes: self.snapshot.length };
      },
      downloadSnapshot(opts) {
        return (async function* () {
          await self.enter("downloadSnapshot", opts);
          // Hand it over in uneven pieces, one larger than a wire message.
          const s = self.snapshot;
          const cut = Math.min(s.length, 1_500_000);
          yield s.subarray(0, cut);
          if (cut < s.length) yield s.subarray(cut);
        })();
      },
    };
  }

  private async enter(method: string, opts: RecordedCall["opts"]): Promise<void> {
    this.calls.push({ method, opts });
    await this.before?.(method, opts);
    if (this.notLeader && !["status", "leader", "members"].includes(method)) {
      throw new NotLeaderError(this.notLeader.id, this.notLeader.address);
    }
  }

  /** Applies a write once per session: a retry gets the remembered answer. */
  private once<T>(session: WriteSession | undefined, apply: () => T): T {
    if (!session) return apply();
    const k = `${session.clientId}/${session.sequence}`;
    if (this.answers.has(k)) return this.answers.get(k) as T;
    const r = apply();
    this.answers.set(k, r);
    return r;
  }

  private putNow(key: Uint8Array, value: Uint8Array, lease: number, rev: number) {
    const prev = this.data.get(hex(key));
    this.data.set(hex(key), {
      key,
      value,
      createRevision: prev ? prev.createRevision : rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      lease,
    });
    return prev;
  }

  async put(key: Bytes, value: Bytes, opts?: PutOptions) {
    await this.enter("put", opts);
    const r = this.once(opts?.session, () => {
      this.applied++;
      const rev = ++this.revision;
      const lease = opts?.ttlSeconds ? 1000 + rev : (opts?.lease ?? 0);
      const prev = this.putNow(toBytes(key), toBytes(value), lease, rev);
      return {
        revision: rev,
        lease: opts?.ttlSeconds ? lease : 0,
        ...(opts?.prevKv && prev ? { prevKv: prev } : {}),
      };
    });
    await this.after?.("put");
    return r;
  }

  async get(key: Bytes, opts?: ReadOptions) {
    await this.enter("get", opts);
    return this.data.get(hex(toBytes(key)));
  }

  async getMany(keys: readonly Bytes[], opts?: ReadOptions) {
    await this.enter("getMany", opts);
    return { revision: this.revision, kvs: keys.map((k) => this.data.get(hex(toBytes(k)))) };
  }

  private inRange(key: Uint8Array, rangeEnd?: Uint8Array): KeyValue[] {
    const all = [...this.data.values()].sort((a, b) => cmp(a.key, b.key));
    if (!rangeEnd || rangeEnd.length === 0) return all.filter((kv) => cmp(kv.key, key) === 0);
    const toEnd = rangeEnd.length === 1 && rangeEnd[0] === 0;
    return all.filter((kv) => cmp(kv.key, key) >= 0 && (toEnd || cmp(kv.key, rangeEnd) < 0));
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    await this.enter("range", opts);
    let key: Uint8Array;
    let end: Uint8Array | undefined;
    if (opts.prefix !== undefined) {
      key = toBytes(opts.prefix);
      end = prefixEnd(key);
    } else {
      key = toBytes(opts.key ?? "");
      end = opts.rangeEnd === undefined ? undefined : toBytes(opts.rangeEnd);
    }
    let kvs = this.inRange(key, end);
    const count = kvs.length;
    if (opts.sortOrder === "descend") kvs = kvs.reverse();
    const limit = opts.limit ?? 0;
    const more = limit > 0 && kvs.length > limit;
    if (limit > 0) kvs = kvs.slice(0, limit);
    if (opts.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: new Uint8Array(0) }));
    if (opts.countOnly) kvs = [];
    return { revision: this.revision, kvs, more, count };
  }

  prefix(prefix: Bytes, opts?: Omit<RangeOptions, "prefix" | "key" | "rangeEnd">) {
    return this.range({ ...opts, prefix });
  }

  async delete(key: Bytes, opts?: DeleteOptions) {
    await this.enter("delete", opts);
    return this.once(opts?.session, () => {
      const k = toBytes(key);
      const end = opts?.prefix ? prefixEnd(k) : opts?.rangeEnd ? toBytes(opts.rangeEnd) : undefined;
      const victims = this.inRange(k, end);
      const rev = victims.length ? ++this.revision : this.revision;
      for (const kv of victims) this.data.delete(hex(kv.key));
      return { revision: rev, deleted: victims.length, prevKvs: opts?.prevKv ? victims : [] };
    });
  }

  async compareAndSwap(key: Bytes, expected: Bytes | undefined, value: Bytes, opts?: CallOptions) {
    await this.enter("compareAndSwap", opts);
    return this.once(opts?.session, () => {
      const k = toBytes(key);
      const cur = this.data.get(hex(k));
      const ok = expected === undefined ? !cur : !!cur && cmp(cur.value, toBytes(expected)) === 0;
      if (!ok)
        return { succeeded: false, revision: this.revision, ...(cur ? { prevKv: cur } : {}) };
      const rev = ++this.revision;
      this.putNow(k, toBytes(value), 0, rev);
      return { succeeded: true, revision: rev, ...(cur ? { prevKv: cur } : {}) };
    });
  }

  private holds(c: TxnCompare): boolean {
    const kv = this.data.get(hex(toBytes(c.key)));
    const test = (d: number): boolean =>
      c.result === "=" ? d === 0 : c.result === "!=" ? d !== 0 : c.result === "<" ? d < 0 : d > 0;
    if (c.target === "value") {
      return !!kv && test(cmp(kv.value, toBytes(c.value ?? "")));
    }
    const field = {
      version: "version",
      create: "createRevision",
      mod: "modRevision",
      lease: "lease",
    }[c.target] as keyof KeyValue;
    return test(((kv?.[field] as number | undefined) ?? 0) - (c.number ?? 0));
  }

  async txn(txn: Txn, opts?: CallOptions) {
    await this.enter("txn", opts);
    return this.once(opts?.session, () => {
      const succeeded = txn.compare.every((c) => this.holds(c));
      const ops = succeeded ? txn.success : (txn.failure ?? []);
      const writes = ops.some((o) => o.type !== "get");
      const rev = writes ? ++this.revision : this.revision;
      const results: TxnOpResult[] = ops.map((op): TxnOpResult => {
        const k = toBytes(op.key);
        if (op.type === "put") {
          const prev = this.putNow(k, toBytes(op.value), op.lease ?? 0, rev);
          return { type: "put", revision: rev, ...(op.prevKv && prev ? { prevKv: prev } : {}) };
        }
        const end = op.rangeEnd === undefined ? undefined : toBytes(op.rangeEnd);
        const kvs = this.inRange(k, end);
        if (op.type === "get") {
          const limit = op.limit ?? 0;
          return {
            type: "get",
            revision: rev,
            kvs: limit ? kvs.slice(0, limit) : kvs,
            more: limit > 0 && kvs.length > limit,
            count: kvs.length,
          };
        }
        for (const kv of kvs) this.data.delete(hex(kv.key));
        return {
          type: "delete",
          revision: rev,
          deleted: kvs.length,
          prevKvs: op.prevKv ? kvs : [],
        };
      });
      return { revision: rev, succeeded, results };
    });
  }

  watch(opts: WatchOptions): Watcher {
    this.calls.push({ method: "watch", opts: undefined });
    return this.watches.watch(opts);
  }

  async compact(revision: number, opts?: CallOptions) {
    await this.enter("compact", opts);
    return { revision: Math.max(revision, this.revision) };
  }

  async close(): Promise<void> {}
}
