// The key-value operations served by this node: writes are proposed through the log (leader only;
// a follower answers NotLeaderError naming the leader), reads are served from the local state
// machine once the consistency asked for allows it.
import {
  type Bytes,
  type CallOptions,
  type CompareAndSwapResult,
  type DeleteOptions,
  type DeleteResult,
  type GetManyResult,
  InvalidArgumentError,
  type KeyValue,
  type PutOptions,
  type PutResult,
  prefixEnd,
  type RangeOptions,
  type RangeResult,
  type ReadOptions,
  type Txn,
  type TxnResult,
  toBytes,
} from "@d-engine/client";
import type { KvOperation, KvResponse, KvStateMachine } from "@d-engine/storage";
import { keyBytes } from "../reads/key-bytes.js";
import { readError } from "../runtime/errors.js";
import type { NodeRuntime } from "../runtime/node-runtime.js";
import { rangeRequest, txnRequest, txnResult } from "./convert.js";
import { type Answer, proposeExpecting } from "./propose.js";
import type { SessionOption } from "./types.js";
import {
  checkCas,
  checkGetMany,
  checkKey,
  checkPut,
  checkTxn,
  requireCount,
  requireKey,
} from "./validate.js";

/** One key from the state machine, its errors mapped as every read's are (readError). */
function readKey(kv: KvStateMachine, k: Uint8Array, at: { readonly revision: number }) {
  try {
    return kv.get(k, at);
  } catch (e) {
    throw readError(e);
  }
}

/** The storage read options of a read at the latest revision (shared: storage only reads them). */
const LATEST = Object.freeze({ revision: 0 });

export class KvApiImpl {
  constructor(protected readonly rt: NodeRuntime) {}

  private get limits() {
    return this.rt.opts.limits;
  }

  /** Proposes `op` and returns the state machine's answer of the expected type. */
  private write<T extends KvResponse["type"]>(
    expect: T,
    op: KvOperation,
    opts: (CallOptions & SessionOption) | undefined,
  ): Promise<Answer<T>> {
    return proposeExpecting(this.rt, expect, op, opts);
  }

  private read<T>(opts: ReadOptions | undefined, fn: () => T): Promise<T> {
    requireCount(opts?.revision, "revision");
    return this.rt.reader.read(
      opts?.consistency,
      () => {
        try {
          return fn();
        } catch (e) {
          throw readError(e);
        }
      },
      opts,
    );
  }

  async put(key: Bytes, value: Bytes, opts: PutOptions & SessionOption = {}): Promise<PutResult> {
    const k = toBytes(key);
    const v = toBytes(value);
    checkPut(this.limits, k, v);
    requireCount(opts.lease, "lease");
    requireCount(opts.ttlSeconds, "ttlSeconds", 1);
    if (opts.ttlSeconds !== undefined) {
      if (opts.lease) throw new InvalidArgumentError("lease and ttlSeconds cannot be combined");
      const r = await this.write(
        "put-with-ttl",
        {
          type: "put-with-ttl",
          key: k,
          value: v,
          ttl: opts.ttlSeconds,
          prevKv: opts.prevKv ?? false,
        },
        opts,
      );
      return { revision: r.revision, lease: r.lease, ...(r.prevKv ? { prevKv: r.prevKv } : {}) };
    }
    const r = await this.write(
      "put",
      {
        type: "put",
        key: k,
        value: v,
        ...(opts.lease ? { lease: opts.lease } : {}),
        ...(opts.prevKv ? { prevKv: true } : {}),
      },
      opts,
    );
    return { revision: r.revision, lease: 0, ...(r.prevKv ? { prevKv: r.prevKv } : {}) };
  }

  // Not async: an async function returning the reader's promise costs an extra promise and
  // microtask hops per read, a visible share of an in-process read. Every error still rejects.
  // A read the reader serves at once (eventual, or lease while the lease holds) runs here without
  // a closure: at several hundred thousand reads a second each allocation shows.
  get(key: Bytes, opts: ReadOptions = {}): Promise<KeyValue | undefined> {
    try {
      const k = keyBytes(key);
      requireKey(k);
      const limits = this.limits;
      if (k.length > limits.maxKeyBytes) checkKey(limits, k);
      const revision = opts.revision;
      requireCount(revision, "revision");
      const kv = this.rt.ns.kv;
      const at = revision ? { revision } : LATEST;
      const reader = this.rt.reader;
      if (reader.servesNow(opts.consistency)) return Promise.resolve(readKey(kv, k, at));
      return reader.read(opts.consistency, () => readKey(kv, k, at), opts);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  async getMany(keys: readonly Bytes[], opts: ReadOptions = {}): Promise<GetManyResult> {
    const ks = keys.map(keyBytes);
    checkGetMany(this.limits, ks);
    const kv = this.rt.ns.kv;
    return this.read(opts, () => ({
      revision: opts.revision || kv.revision(),
      kvs: kv.getMany(ks, { revision: opts.revision ?? 0 }),
    }));
  }

  async range(opts: RangeOptions): Promise<RangeResult> {
    const req = rangeRequest(opts);
    checkKey(this.limits, req.key, req.rangeEnd);
    requireCount(opts.limit, "limit");
    const kv = this.rt.ns.kv;
    return this.read(opts, () => {
      const r = kv.range(req);
      return { revision: r.revision, kvs: r.kvs, more: r.more, count: r.count };
    });
  }

  prefix(
    prefix: Bytes,
    opts: Omit<RangeOptions, "prefix" | "key" | "rangeEnd"> = {},
  ): Promise<RangeResult> {
    return this.range({ ...opts, prefix });
  }

  async delete(key: Bytes, opts: DeleteOptions & SessionOption = {}): Promise<DeleteResult> {
    const k = toBytes(key);
    requireKey(k);
    const rangeEnd = opts.prefix
      ? prefixEnd(k)
      : opts.rangeEnd !== undefined
        ? toBytes(opts.rangeEnd)
        : undefined;
    checkKey(this.limits, k, rangeEnd);
    const r = await this.write(
      "delete-range",
      {
        type: "delete-range",
        key: k,
        ...(rangeEnd ? { rangeEnd } : {}),
        ...(opts.prevKv ? { prevKv: true } : {}),
      },
      opts,
    );
    return { revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs };
  }

  async compareAndSwap(
    key: Bytes,
    expected: Bytes | undefined,
    value: Bytes,
    opts: CallOptions & SessionOption = {},
  ): Promise<CompareAndSwapResult> {
    const k = toBytes(key);
    const exp = expected === undefined ? undefined : toBytes(expected);
    const v = toBytes(value);
    checkCas(this.limits, k, exp, v);
    const r = await this.write(
      "txn",
      {
        type: "txn",
        compare: [
          exp === undefined
            ? { key: k, target: "create", result: "=", number: 0 }
            : { key: k, target: "value", result: "=", value: exp },
        ],
        success: [{ type: "put", key: k, value: v, prevKv: true }],
        failure: [{ type: "range", key: k }],
      },
      opts,
    );
    const first = r.responses[0];
    const prevKv =
      first?.type === "put" ? first.prevKv : first?.type === "range" ? first.kvs[0] : undefined;
    return { succeeded: r.succeeded, revision: r.revision, ...(prevKv ? { prevKv } : {}) };
  }

  async txn(txn: Txn, opts: CallOptions & SessionOption = {}): Promise<TxnResult> {
    checkTxn(this.limits, txn);
    const r = await this.write("txn", { type: "txn", ...txnRequest(txn) }, opts);
    return txnResult(r);
  }

  async compact(
    revision: number,
    opts: CallOptions & SessionOption = {},
  ): Promise<{ readonly revision: number }> {
    requireCount(revision, "revision", 1);
    const r = await this.write("compaction", { type: "compaction", revision }, opts);
    return { revision: r.revision };
  }
}
