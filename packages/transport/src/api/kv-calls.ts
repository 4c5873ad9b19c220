// The key-value calls as plain functions, wire request in, wire response out: decode and validate
// (@d-engine/client/wire), check the limits, call the API with the given deadline and
// cancellation, encode the result. Both ways a call can travel use these, so that a call means
// the same thing on either: the unary handlers (api-routes.ts) and the Pipeline stream
// (pipeline-routes.ts). Failures are thrown as they come (typed errors); each caller turns them
// into its own wire form.
import {
  type CallOptions,
  checkCompareAndSwap,
  checkGetMany,
  checkKeyRange,
  checkKeyValue,
  checkLimit,
  checkTxn,
  type DEngineClient,
  type Limits,
  toBytes,
} from "@d-engine/client";
import {
  fromWireCompactRequest,
  fromWireCompareAndSwapRequest,
  fromWireDeleteRequest,
  fromWireGetManyRequest,
  fromWireGetRequest,
  fromWirePutRequest,
  fromWireRangeRequest,
  fromWireTxnRequest,
  toWireCompactResponse,
  toWireCompareAndSwapResponse,
  toWireDeleteResponse,
  toWireGetManyResponse,
  toWireGetResponse,
  toWirePutResponse,
  toWireRangeResponse,
  toWireTxnResponse,
} from "@d-engine/client/wire";
import type {
  CompactRequest,
  CompactResponse,
  CompareAndSwapRequest,
  CompareAndSwapResponse,
  DeleteRequest,
  DeleteResponse,
  GetManyRequest,
  GetManyResponse,
  GetRequest,
  GetResponse,
  PutRequest,
  PutResponse,
  RangeRequest,
  RangeResponse,
  TxnRequest,
  TxnResponse,
} from "@d-engine/proto/api";

/** One function per KvService call. */
export interface KvCalls {
  put(req: PutRequest, opts: CallOptions): Promise<PutResponse>;
  get(req: GetRequest, opts: CallOptions): Promise<GetResponse>;
  getMany(req: GetManyRequest, opts: CallOptions): Promise<GetManyResponse>;
  range(req: RangeRequest, opts: CallOptions): Promise<RangeResponse>;
  delete(req: DeleteRequest, opts: CallOptions): Promise<DeleteResponse>;
  compareAndSwap(req: CompareAndSwapRequest, opts: CallOptions): Promise<CompareAndSwapResponse>;
  txn(req: TxnRequest, opts: CallOptions): Promise<TxnResponse>;
  compact(req: CompactRequest, opts: CallOptions): Promise<CompactResponse>;
}

/** The KV calls over `api`, each request held to `limits` before the API sees it. */
export function kvCalls(api: DEngineClient, limits: Limits): KvCalls {
  return {
    async put(req, opts) {
      const c = fromWirePutRequest(req);
      checkKeyValue(limits, c.key, c.value);
      return toWirePutResponse(await api.put(c.key, c.value, { ...c.opts, ...opts }));
    },
    async get(req, opts) {
      const c = fromWireGetRequest(req);
      checkLimit(limits, "maxKeyBytes", c.key.length);
      return toWireGetResponse(await api.get(c.key, { ...c.opts, ...opts }));
    },
    async getMany(req, opts) {
      const c = fromWireGetManyRequest(req);
      checkGetMany(limits, c.keys);
      return toWireGetManyResponse(await api.getMany(c.keys, { ...c.opts, ...opts }));
    },
    async range(req, opts) {
      const c = fromWireRangeRequest(req);
      const first = c.opts.prefix ?? c.opts.key;
      checkKeyRange(
        limits,
        first === undefined ? new Uint8Array(0) : toBytes(first),
        c.opts.rangeEnd === undefined ? undefined : toBytes(c.opts.rangeEnd),
      );
      return toWireRangeResponse(await api.range({ ...c.opts, ...opts }));
    },
    async delete(req, opts) {
      const c = fromWireDeleteRequest(req);
      const end = c.opts.rangeEnd === undefined ? undefined : toBytes(c.opts.rangeEnd);
      checkKeyRange(limits, c.key, end);
      return toWireDeleteResponse(await api.delete(c.key, { ...c.opts, ...opts }));
    },
    async compareAndSwap(req, opts) {
      const c = fromWireCompareAndSwapRequest(req);
      checkCompareAndSwap(limits, c.key, c.expected, c.value);
      return toWireCompareAndSwapResponse(
        await api.compareAndSwap(c.key, c.expected, c.value, { ...c.opts, ...opts }),
      );
    },
    async txn(req, opts) {
      const c = fromWireTxnRequest(req);
      checkTxn(limits, c.txn);
      return toWireTxnResponse(await api.txn(c.txn, { ...c.opts, ...opts }));
    },
    async compact(req, opts) {
      const c = fromWireCompactRequest(req);
      return toWireCompactResponse(await api.compact(c.revision, { ...c.opts, ...opts }));
    },
  };
}
