// Ranges and transactions: the client API's shapes <-> dengine.v1's etcd-model messages.
import { create } from "@bufbuild/protobuf";
import {
  CompareSchema,
  DeleteRangeRequestSchema,
  DeleteRangeResponseSchema,
  CompareResult as PbCompareResult,
  CompareTarget as PbCompareTarget,
  PutResponseSchema as PbPutResultSchema,
  PutRequestSchema as PbPutSchema,
  type RangeRequest as PbRange,
  type RangeResponse as PbRangeResult,
  RangeResponseSchema as PbRangeResultSchema,
  RangeRequestSchema as PbRangeSchema,
  SortOrder as PbSortOrder,
  SortTarget as PbSortTarget,
  type TxnRequest as PbTxn,
  type TxnResponse as PbTxnResult,
  TxnResponseSchema as PbTxnResultSchema,
  TxnRequestSchema as PbTxnSchema,
  type RequestOp,
  RequestOpSchema,
  type ResponseOp,
  ResponseOpSchema,
} from "@d-engine/proto";
import { toBytes } from "../bytes.js";
import { InvalidArgumentError } from "../errors.js";
import type {
  CompareResult,
  CompareTarget,
  RangeOptions,
  RangeResult,
  SortOrder,
  SortTarget,
  Txn,
  TxnCompare,
  TxnOp,
  TxnOpResult,
  TxnResult,
} from "../types.js";
import { fromU64, toU64 } from "./numbers.js";
import { fromWireKeyValue, fromWireKeyValues, requireKey, toWireKeyValue } from "./values.js";

const EMPTY = new Uint8Array(0);
/** etcd's "every key from here on" (as a range end) and "the smallest key" (as a key). */
const ZERO = new Uint8Array([0]);

function lookup<K extends string, V>(table: Record<K, V>, k: K, field: string): V {
  const v = table[k];
  if (v === undefined) {
    throw new InvalidArgumentError(
      `${field} must be one of ${Object.keys(table).join(", ")}, got ${JSON.stringify(k)}`,
    );
  }
  return v;
}

function reverse<K extends string, V>(table: Record<K, V>, v: V, field: string): K {
  for (const [k, x] of Object.entries(table) as [K, V][]) if (x === v) return k;
  throw new InvalidArgumentError(`${field}: unknown value ${String(v)}`);
}

const SORT_ORDER: Record<SortOrder, PbSortOrder> = {
  none: PbSortOrder.NONE,
  ascend: PbSortOrder.ASCEND,
  descend: PbSortOrder.DESCEND,
};
const SORT_TARGET: Record<SortTarget, PbSortTarget> = {
  key: PbSortTarget.KEY,
  version: PbSortTarget.VERSION,
  create: PbSortTarget.CREATE,
  mod: PbSortTarget.MOD,
  value: PbSortTarget.VALUE,
};
const COMPARE_TARGET: Record<CompareTarget, PbCompareTarget> = {
  version: PbCompareTarget.VERSION,
  create: PbCompareTarget.CREATE,
  mod: PbCompareTarget.MOD,
  value: PbCompareTarget.VALUE,
  lease: PbCompareTarget.LEASE,
};
const COMPARE_RESULT: Record<CompareResult, PbCompareResult> = {
  "=": PbCompareResult.EQUAL,
  "!=": PbCompareResult.NOT_EQUAL,
  "<": PbCompareResult.LESS,
  ">": PbCompareResult.GREATER,
};

/**
 * The key and range end of a range given as options: `prefix` wins; an empty prefix means every
 * key, which etcd spells key "\0", range end "\0" (an empty key is not a key).
 */
export function rangeBounds(opts: {
  readonly key?: string | Uint8Array;
  readonly rangeEnd?: string | Uint8Array;
  readonly prefix?: string | Uint8Array;
}): { key: Uint8Array; rangeEnd: Uint8Array; prefix: Uint8Array } {
  if (opts.prefix !== undefined) {
    const p = toBytes(opts.prefix);
    return p.length === 0
      ? { key: ZERO, rangeEnd: ZERO, prefix: EMPTY }
      : { key: EMPTY, rangeEnd: EMPTY, prefix: p };
  }
  if (opts.key === undefined) throw new InvalidArgumentError("range: key or prefix is required");
  const key = toBytes(opts.key);
  const rangeEnd = opts.rangeEnd === undefined ? EMPTY : toBytes(opts.rangeEnd);
  if (key.length === 0) {
    if (rangeEnd.length === 0) throw new InvalidArgumentError("range: key is empty");
    return { key: ZERO, rangeEnd, prefix: EMPTY };
  }
  return { key, rangeEnd, prefix: EMPTY };
}

/** The dengine.v1.RangeRequest of range options (key and range end as given). */
export function toWireRange(
  opts: Omit<RangeOptions, "prefix" | "consistency" | "signal" | "timeoutMs" | "session">,
  key: Uint8Array,
  rangeEnd: Uint8Array,
): PbRange {
  return create(PbRangeSchema, {
    key,
    rangeEnd,
    limit: toU64(opts.limit, "range.limit"),
    revision: toU64(opts.revision, "range.revision"),
    sortOrder: lookup(SORT_ORDER, opts.sortOrder ?? "none", "range.sort_order"),
    sortTarget: lookup(SORT_TARGET, opts.sortTarget ?? "key", "range.sort_target"),
    keysOnly: opts.keysOnly ?? false,
    countOnly: opts.countOnly ?? false,
    minModRevision: toU64(opts.minModRevision, "range.min_mod_revision"),
    maxModRevision: toU64(opts.maxModRevision, "range.max_mod_revision"),
    minCreateRevision: toU64(opts.minCreateRevision, "range.min_create_revision"),
    maxCreateRevision: toU64(opts.maxCreateRevision, "range.max_create_revision"),
  });
}

/** The range options of a dengine.v1.RangeRequest (without key/prefix), validated. */
export function fromWireRangeOptions(r: PbRange, field: string) {
  const opt = (v: bigint, f: string): number | undefined => {
    const n = fromU64(v, `${field}.${f}`);
    return n === 0 ? undefined : n;
  };
  return {
    limit: opt(r.limit, "limit"),
    revision: opt(r.revision, "revision"),
    sortOrder: reverse(SORT_ORDER, r.sortOrder, `${field}.sort_order`),
    sortTarget: reverse(SORT_TARGET, r.sortTarget, `${field}.sort_target`),
    keysOnly: r.keysOnly,
    countOnly: r.countOnly,
    minModRevision: opt(r.minModRevision, "min_mod_revision"),
    maxModRevision: opt(r.maxModRevision, "max_mod_revision"),
    minCreateRevision: opt(r.minCreateRevision, "min_create_revision"),
    maxCreateRevision: opt(r.maxCreateRevision, "max_create_revision"),
  };
}

export function toWireRangeResult(r: RangeResult): PbRangeResult {
  return create(PbRangeResultSchema, {
    revision: toU64(r.revision, "revision"),
    kvs: r.kvs.map(toWireKeyValue),
    more: r.more,
    count: toU64(r.count, "count"),
  });
}

export function fromWireRangeResult(r: PbRangeResult | undefined, field: string): RangeResult {
  if (r === undefined) throw new InvalidArgumentError(`${field} is missing`);
  return {
    revision: fromU64(r.revision, `${field}.revision`),
    kvs: fromWireKeyValues(r.kvs, `${field}.kvs`),
    more: r.more,
    count: fromU64(r.count, `${field}.count`),
  };
}

// --- transactions ---

function toWireCompare(c: TxnCompare, i: number): ReturnType<typeof create<typeof CompareSchema>> {
  const field = `txn.compare[${i}]`;
  const target = lookup(COMPARE_TARGET, c.target, `${field}.target`);
  const isValue = c.target === "value";
  if (isValue && c.value === undefined) {
    throw new InvalidArgumentError(`${field}: target "value" needs a value operand`);
  }
  return create(CompareSchema, {
    key: toBytes(c.key),
    rangeEnd: c.rangeEnd === undefined ? EMPTY : toBytes(c.rangeEnd),
    target,
    result: lookup(COMPARE_RESULT, c.result, `${field}.result`),
    value: isValue && c.value !== undefined ? toBytes(c.value) : EMPTY,
    number: isValue ? 0n : toU64(c.number ?? 0, `${field}.number`),
  });
}

function toWireOp(op: TxnOp, field: string): RequestOp {
  switch (op.type) {
    case "put":
      return create(RequestOpSchema, {
        request: {
          case: "requestPut",
          value: create(PbPutSchema, {
            key: toBytes(op.key),
            value: toBytes(op.value),
            lease: toU64(op.lease, `${field}.lease`),
            prevKv: op.prevKv ?? false,
          }),
        },
      });
    case "get":
      return create(RequestOpSchema, {
        request: {
          case: "requestRange",
          value: create(PbRangeSchema, {
            key: toBytes(op.key),
            rangeEnd: op.rangeEnd === undefined ? EMPTY : toBytes(op.rangeEnd),
            limit: toU64(op.limit, `${field}.limit`),
          }),
        },
      });
    case "delete":
      return create(RequestOpSchema, {
        request: {
          case: "requestDeleteRange",
          value: create(DeleteRangeRequestSchema, {
            key: toBytes(op.key),
            rangeEnd: op.rangeEnd === undefined ? EMPTY : toBytes(op.rangeEnd),
            prevKv: op.prevKv ?? false,
          }),
        },
      });
    default:
      throw new InvalidArgumentError(
        `${field}.type must be "put", "get" or "delete", got ${JSON.stringify((op as { type: unknown }).type)}`,
      );
  }
}

export function toWireTxn(txn: Txn): PbTxn {
  return create(PbTxnSchema, {
    compare: txn.compare.map(toWireCompare),
    success: txn.success.map((op, i) => toWireOp(op, `txn.success[${i}]`)),
    failure: (txn.failure ?? []).map((op, i) => toWireOp(op, `txn.failure[${i}]`)),
  });
}

function fromWireOp(op: RequestOp, field: string): TxnOp {
  const r = op.request;
  switch (r.case) {
    case "requestPut": {
      const p = r.value;
      if (p.ignoreValue || p.ignoreLease) {
        throw new InvalidArgumentError(`${field}: ignore_value and ignore_lease are not supported`);
      }
      const lease = fromU64(p.lease, `${field}.lease`);
      return {
        type: "put",
        key: requireKey(p.key, `${field}.key`),
        value: p.value,
        ...(lease ? { lease } : {}),
        prevKv: p.prevKv,
      };
    }
    case "requestRange": {
      const g = r.value;
      // Only what TxnOp "get" can say; anything else would be silently ignored, so refuse it.
      if (
        g.revision !== 0n ||
        g.sortOrder !== PbSortOrder.NONE ||
        g.sortTarget !== PbSortTarget.KEY ||
        g.keysOnly ||
        g.countOnly ||
        g.minModRevision !== 0n ||
        g.maxModRevision !== 0n ||
        g.minCreateRevision !== 0n ||
        g.maxCreateRevision !== 0n
      ) {
        throw new InvalidArgumentError(
          `${field}: a transaction read supports key, range_end and limit only`,
        );
      }
      const limit = fromU64(g.limit, `${field}.limit`);
      return {
        type: "get",
        key: requireKey(g.key, `${field}.key`),
        ...(g.rangeEnd.length ? { rangeEnd: g.rangeEnd } : {}),
        ...(limit ? { limit } : {}),
      };
    }
    case "requestDeleteRange": {
      const d = r.value;
      return {
        type: "delete",
        key: requireKey(d.key, `${field}.key`),
        ...(d.rangeEnd.length ? { rangeEnd: d.rangeEnd } : {}),
        prevKv: d.prevKv,
      };
    }
    case "requestTxn":
      throw new InvalidArgumentError(`${field}: nested transactions are not supported`);
    default:
      throw new InvalidArgumentError(`${field}: the operation is missing`);
  }
}

/** A transaction from the wire, validated. */
export function fromWireTxn(txn: PbTxn | undefined): Txn {
  if (txn === undefined) throw new InvalidArgumentError("txn is required");
  const compare = txn.compare.map((c, i): TxnCompare => {
    const field = `txn.compare[${i}]`;
    const target = reverse(COMPARE_TARGET, c.target, `${field}.target`);
    const result = reverse(COMPARE_RESULT, c.result, `${field}.result`);
    const key = requireKey(c.key, `${field}.key`);
    const rangeEnd = c.rangeEnd.length ? { rangeEnd: c.rangeEnd } : {};
    return target === "value"
      ? { key, ...rangeEnd, target, result, value: c.value }
      : { key, ...rangeEnd, target, result, number: fromU64(c.number, `${field}.number`) };
  });
  return {
    compare,
    success: txn.success.map((op, i) => fromWireOp(op, `txn.success[${i}]`)),
    failure: txn.failure.map((op, i) => fromWireOp(op, `txn.failure[${i}]`)),
  };
}

function toWireOpResult(r: TxnOpResult): ResponseOp {
  switch (r.type) {
    case "put":
      return create(ResponseOpSchema, {
        response: {
          case: "responsePut",
          value: create(PbPutResultSchema, {
            revision: toU64(r.revision, "revision"),
            ...(r.prevKv ? { prevKv: toWireKeyValue(r.prevKv) } : {}),
          }),
        },
      });
    case "get":
      return create(ResponseOpSchema, {
        response: {
          case: "responseRange",
          value: toWireRangeResult(r),
        },
      });
    case "delete":
      return create(ResponseOpSchema, {
        response: {
          case: "responseDeleteRange",
          value: create(DeleteRangeResponseSchema, {
            revision: toU64(r.revision, "revision"),
            deleted: toU64(r.deleted, "deleted"),
            prevKvs: r.prevKvs.map(toWireKeyValue),
          }),
        },
      });
  }
}

export function toWireTxnResult(r: TxnResult): PbTxnResult {
  return create(PbTxnResultSchema, {
    revision: toU64(r.revision, "revision"),
    succeeded: r.succeeded,
    responses: r.results.map(toWireOpResult),
  });
}

export function fromWireTxnResult(r: PbTxnResult | undefined): TxnResult {
  if (r === undefined) throw new InvalidArgumentError("result is missing");
  return {
    revision: fromU64(r.revision, "result.revision"),
    succeeded: r.succeeded,
    results: r.responses.map((op, i): TxnOpResult => {
      const field = `result.responses[${i}]`;
      const x = op.response;
      switch (x.case) {
        case "responsePut":
          return {
            type: "put",
            revision: fromU64(x.value.revision, `${field}.revision`),
            ...(x.value.prevKv
              ? { prevKv: fromWireKeyValue(x.value.prevKv, `${field}.prev_kv`) }
              : {}),
          };
        case "responseRange":
          return { type: "get", ...fromWireRangeResult(x.value, field) };
        case "responseDeleteRange":
          return {
            type: "delete",
            revision: fromU64(x.value.revision, `${field}.revision`),
            deleted: fromU64(x.value.deleted, `${field}.deleted`),
            prevKvs: fromWireKeyValues(x.value.prevKvs, `${field}.prev_kvs`),
          };
        default:
          throw new InvalidArgumentError(`${field}: unexpected ${x.case ?? "empty"} response`);
      }
    }),
  };
}
