// Between the client API's shapes and the state machine's. The KeyValue shapes are the same;
// transactions and ranges differ in naming ("get"/"range", "delete"/"delete-range").
import {
  InvalidArgumentError,
  prefixEnd,
  type RangeOptions,
  type Txn,
  type TxnCompare,
  type TxnOp,
  type TxnOpResult,
  type TxnResult,
  toBytes,
} from "@d-engine/client";
import type {
  Compare,
  RangeRequest,
  RequestOp,
  ResponseOp,
  TxnRequest,
  TxnResponse,
} from "@d-engine/storage";

export function rangeRequest(o: RangeOptions): RangeRequest {
  let key: Uint8Array;
  let rangeEnd: Uint8Array | undefined;
  if (o.prefix !== undefined) {
    key = toBytes(o.prefix);
    rangeEnd = prefixEnd(key);
  } else {
    if (o.key === undefined) throw new InvalidArgumentError("range needs a key or a prefix");
    key = toBytes(o.key);
    rangeEnd = o.rangeEnd !== undefined ? toBytes(o.rangeEnd) : undefined;
  }
  return {
    key,
    ...(rangeEnd ? { rangeEnd } : {}),
    ...(o.limit !== undefined ? { limit: o.limit } : {}),
    ...(o.revision !== undefined ? { revision: o.revision } : {}),
    ...(o.sortOrder !== undefined ? { sortOrder: o.sortOrder } : {}),
    ...(o.sortTarget !== undefined ? { sortTarget: o.sortTarget } : {}),
    ...(o.keysOnly !== undefined ? { keysOnly: o.keysOnly } : {}),
    ...(o.countOnly !== undefined ? { countOnly: o.countOnly } : {}),
    ...(o.minModRevision !== undefined ? { minModRevision: o.minModRevision } : {}),
    ...(o.maxModRevision !== undefined ? { maxModRevision: o.maxModRevision } : {}),
    ...(o.minCreateRevision !== undefined ? { minCreateRevision: o.minCreateRevision } : {}),
    ...(o.maxCreateRevision !== undefined ? { maxCreateRevision: o.maxCreateRevision } : {}),
  };
}

function compare(c: TxnCompare): Compare {
  return {
    key: toBytes(c.key),
    ...(c.rangeEnd !== undefined ? { rangeEnd: toBytes(c.rangeEnd) } : {}),
    target: c.target,
    result: c.result,
    ...(c.value !== undefined ? { value: toBytes(c.value) } : {}),
    ...(c.number !== undefined ? { number: c.number } : {}),
  };
}

function op(o: TxnOp): RequestOp {
  switch (o.type) {
    case "put":
      return {
        type: "put",
        key: toBytes(o.key),
        value: toBytes(o.value),
        ...(o.lease !== undefined ? { lease: o.lease } : {}),
        ...(o.prevKv !== undefined ? { prevKv: o.prevKv } : {}),
      };
    case "get":
      return {
        type: "range",
        key: toBytes(o.key),
        ...(o.rangeEnd !== undefined ? { rangeEnd: toBytes(o.rangeEnd) } : {}),
        ...(o.limit !== undefined ? { limit: o.limit } : {}),
      };
    case "delete":
      return {
        type: "delete-range",
        key: toBytes(o.key),
        ...(o.rangeEnd !== undefined ? { rangeEnd: toBytes(o.rangeEnd) } : {}),
        ...(o.prevKv !== undefined ? { prevKv: o.prevKv } : {}),
      };
    default:
      throw new InvalidArgumentError(`unknown transaction op ${(o as { type: string }).type}`);
  }
}

export function txnRequest(t: Txn): TxnRequest {
  return {
    compare: t.compare.map(compare),
    success: t.success.map(op),
    failure: (t.failure ?? []).map(op),
  };
}

function opResult(r: ResponseOp): TxnOpResult {
  switch (r.type) {
    case "put":
      return { type: "put", revision: r.revision, ...(r.prevKv ? { prevKv: r.prevKv } : {}) };
    case "range":
      return { type: "get", revision: r.revision, kvs: r.kvs, more: r.more, count: r.count };
    case "delete-range":
      return { type: "delete", revision: r.revision, deleted: r.deleted, prevKvs: r.prevKvs };
    default:
      // The client API has no nested transactions, so none can come back.
      throw new InvalidArgumentError(`unexpected transaction result ${r.type}`);
  }
}

export function txnResult(r: TxnResponse): TxnResult {
  return { revision: r.revision, succeeded: r.succeeded, results: r.responses.map(opResult) };
}
