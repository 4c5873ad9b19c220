// KvService: each RPC's request and response, both ways. The client encodes requests
// (toWire*Request) and decodes responses (fromWire*Response); the server decodes requests into
// the client API's arguments (fromWire*Request, validated: a bad request is an
// InvalidArgumentError naming the field) and encodes the API's results (toWire*Response).
import { create } from "@bufbuild/protobuf";
import { KeyValueSchema } from "@d-engine/proto";
import {
  type CompactRequest,
  CompactRequestSchema,
  type CompactResponse,
  CompactResponseSchema,
  type CompareAndSwapRequest,
  CompareAndSwapRequestSchema,
  type CompareAndSwapResponse,
  CompareAndSwapResponseSchema,
  type DeleteRequest,
  DeleteRequestSchema,
  type DeleteResponse,
  DeleteResponseSchema,
  type GetManyRequest,
  GetManyRequestSchema,
  type GetManyResponse,
  GetManyResponseSchema,
  type GetRequest,
  GetRequestSchema,
  type GetResponse,
  GetResponseSchema,
  type PutRequest,
  PutRequestSchema,
  type PutResponse,
  PutResponseSchema,
  type RangeRequest,
  RangeRequestSchema,
  type RangeResponse,
  RangeResponseSchema,
  type TxnRequest,
  TxnRequestSchema,
  type TxnResponse,
  TxnResponseSchema,
} from "@d-engine/proto/api";
import { toBytes } from "../bytes.js";
import { InvalidArgumentError } from "../errors.js";
import type {
  Bytes,
  CompareAndSwapResult,
  DeleteOptions,
  DeleteResult,
  GetManyResult,
  KeyValue,
  PutOptions,
  PutResult,
  RangeOptions,
  RangeResult,
  ReadOptions,
  Txn,
  TxnResult,
  WriteSession,
} from "../types.js";
import { fromU64, toU64 } from "./numbers.js";
import {
  fromWireRangeOptions,
  fromWireRangeResult,
  fromWireTxn,
  fromWireTxnResult,
  rangeBounds,
  toWireRange,
  toWireRangeResult,
  toWireTxn,
  toWireTxnResult,
} from "./range-txn.js";
import {
  fromWireConsistency,
  fromWireKeyValue,
  fromWireKeyValues,
  fromWireSession,
  requireKey,
  toWireConsistency,
  toWireKeyValue,
  toWireSession,
} from "./values.js";

const EMPTY = new Uint8Array(0);

/** What the server hands the API for a write: the options with the caller's session. */
interface WithSession {
  readonly session?: WriteSession;
}

function withSession<T extends object>(o: T, session: WriteSession | undefined): T & WithSession {
  return session ? { ...o, session } : o;
}

function readOpts(revision: bigint, consistency: number): ReadOptions {
  const rev = fromU64(revision, "revision");
  const c = fromWireConsistency(consistency);
  return { ...(rev ? { revision: rev } : {}), ...(c ? { consistency: c } : {}) };
}

// --- Put ---

export interface PutCall {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly opts: PutOptions;
}

export function toWirePutRequest(
  key: Bytes,
  value: Bytes,
  opts: PutOptions | undefined,
  session: WriteSession | undefined,
): PutRequest {
  return create(PutRequestSchema, {
    key: toBytes(key),
    value: toBytes(value),
    lease: toU64(opts?.lease, "lease"),
    ttlSeconds: toU64(opts?.ttlSeconds, "ttl_seconds"),
    prevKv: opts?.prevKv ?? false,
    session: toWireSession(session),
  });
}

export function fromWirePutRequest(req: PutRequest): PutCall {
  const lease = fromU64(req.lease, "lease");
  const ttlSeconds = fromU64(req.ttlSeconds, "ttl_seconds");
  if (lease && ttlSeconds) {
    throw new InvalidArgumentError("lease and ttl_seconds cannot both be set");
  }
  return {
    key: requireKey(req.key, "key"),
    value: req.value,
    opts: withSession(
      {
        ...(lease ? { lease } : {}),
        ...(ttlSeconds ? { ttlSeconds } : {}),
        ...(req.prevKv ? { prevKv: true } : {}),
      },
      fromWireSession(req.session),
    ),
  };
}

export function toWirePutResponse(r: PutResult): PutResponse {
  return create(PutResponseSchema, {
    revision: toU64(r.revision, "revision"),
    ...(r.prevKv ? { prevKv: toWireKeyValue(r.prevKv) } : {}),
    lease: toU64(r.lease, "lease"),
  });
}

export function fromWirePutResponse(res: PutResponse): PutResult {
  return {
    revision: fromU64(res.revision, "revision"),
    ...(res.prevKv ? { prevKv: fromWireKeyValue(res.prevKv, "prev_kv") } : {}),
    lease: fromU64(res.lease, "lease"),
  };
}

// --- Get ---

export interface GetCall {
  readonly key: Uint8Array;
  readonly opts: ReadOptions;
}

export function toWireGetRequest(key: Bytes, opts: ReadOptions | undefined): GetRequest {
  return create(GetRequestSchema, {
    key: toBytes(key),
    revision: toU64(opts?.revision, "revision"),
    consistency: toWireConsistency(opts?.consistency),
  });
}

export function fromWireGetRequest(req: GetRequest): GetCall {
  return { key: requireKey(req.key, "key"), opts: readOpts(req.revision, req.consistency) };
}

/** `revision`: the revision read at, if the server knows it (0 otherwise). */
export function toWireGetResponse(kv: KeyValue | undefined, revision = 0): GetResponse {
  return create(GetResponseSchema, {
    revision: toU64(revision, "revision"),
    ...(kv ? { kv: toWireKeyValue(kv) } : {}),
  });
}

export function fromWireGetResponse(res: GetResponse): KeyValue | undefined {
  return res.kv ? fromWireKeyValue(res.kv) : undefined;
}

// --- GetMany ---

export interface GetManyCall {
  readonly keys: readonly Uint8Array[];
  readonly opts: ReadOptions;
}

export function toWireGetManyRequest(
  keys: readonly Bytes[],
  opts: ReadOptions | undefined,
): GetManyRequest {
  return create(GetManyRequestSchema, {
    keys: keys.map(toBytes),
    revision: toU64(opts?.revision, "revision"),
    consistency: toWireConsistency(opts?.consistency),
  });
}

export function fromWireGetManyRequest(req: GetManyRequest): GetManyCall {
  return {
    keys: req.keys.map((k, i) => requireKey(k, `keys[${i}]`)),
    opts: readOpts(req.revision, req.consistency),
  };
}

export function toWireGetManyResponse(r: GetManyResult): GetManyResponse {
  return create(GetManyResponseSchema, {
    revision: toU64(r.revision, "revision"),
    // A missing key is an empty KeyValue: repeated fields cannot hold "absent".
    kvs: r.kvs.map((kv) => (kv ? toWireKeyValue(kv) : create(KeyValueSchema))),
  });
}

export function fromWireGetManyResponse(res: GetManyResponse): GetManyResult {
  return {
    revision: fromU64(res.revision, "revision"),
    kvs: res.kvs.map((kv, i) =>
      kv.createRevision === 0n ? undefined : fromWireKeyValue(kv, `kvs[${i}]`),
    ),
  };
}

// --- Range ---

export interface RangeCall {
  readonly opts: RangeOptions;
}

export function toWireRangeRequest(opts: RangeOptions): RangeRequest {
  const { key, rangeEnd, prefix } = rangeBounds(opts);
  return create(RangeRequestSchema, {
    range: toWireRange(opts, key, rangeEnd),
    prefix,
    consistency: toWireConsistency(opts.consistency),
  });
}

export function fromWireRangeRequest(req: RangeRequest): RangeCall {
  const consistency = fromWireConsistency(req.consistency);
  const base = {
    ...(req.range ? fromWireRangeOptions(req.range, "range") : {}),
    ...(consistency ? { consistency } : {}),
  };
  if (req.prefix.length > 0) return { opts: { ...base, prefix: req.prefix } };
  if (!req.range) throw new InvalidArgumentError("range or prefix is required");
  const key = requireKey(req.range.key, "range.key");
  return {
    opts: { ...base, key, ...(req.range.rangeEnd.length ? { rangeEnd: req.range.rangeEnd } : {}) },
  };
}

export function toWireRangeResponse(r: RangeResult): RangeResponse {
  return create(RangeResponseSchema, { result: toWireRangeResult(r) });
}

export function fromWireRangeResponse(res: RangeResponse): RangeResult {
  return fromWireRangeResult(res.result, "result");
}

// --- Delete ---

export interface DeleteCall {
  readonly key: Uint8Array;
  readonly opts: DeleteOptions;
}

export function toWireDeleteRequest(
  key: Bytes,
  opts: DeleteOptions | undefined,
  session: WriteSession | undefined,
): DeleteRequest {
  const k = toBytes(key);
  if (opts?.prefix && opts.rangeEnd !== undefined) {
    throw new InvalidArgumentError("delete: prefix and rangeEnd cannot both be set");
  }
  let wireKey: Uint8Array = k;
  let rangeEnd: Uint8Array = opts?.rangeEnd === undefined ? EMPTY : toBytes(opts.rangeEnd);
  let prefix: Uint8Array = EMPTY;
  if (opts?.prefix) {
    // An empty prefix is every key: etcd's key "\0", range end "\0".
    if (k.length === 0) {
      wireKey = new Uint8Array([0]);
      rangeEnd = new Uint8Array([0]);
    } else {
      prefix = k;
    }
  }
  return create(DeleteRequestSchema, {
    key: wireKey,
    rangeEnd,
    prefix,
    prevKv: opts?.prevKv ?? false,
    session: toWireSession(session),
  });
}

export function fromWireDeleteRequest(req: DeleteRequest): DeleteCall {
  const session = fromWireSession(req.session);
  const prevKv = req.prevKv ? { prevKv: true } : {};
  if (req.prefix.length > 0) {
    if (req.rangeEnd.length > 0) {
      throw new InvalidArgumentError("prefix and range_end cannot both be set");
    }
    return { key: req.prefix, opts: withSession({ prefix: true, ...prevKv }, session) };
  }
  return {
    key: requireKey(req.key, "key"),
    opts: withSession(
      { ...(req.rangeEnd.length ? { rangeEnd: req.rangeEnd } : {}), ...prevKv },
      session,
    ),
  };
}

export function toWireDeleteResponse(r: DeleteResult): DeleteResponse {
  return create(DeleteResponseSchema, {
    revision: toU64(r.revision, "revision"),
    deleted: toU64(r.deleted, "deleted"),
    prevKvs: r.prevKvs.map(toWireKeyValue),
  });
}

export function fromWireDeleteResponse(res: DeleteResponse): DeleteResult {
  return {
    revision: fromU64(res.revision, "revision"),
    deleted: fromU64(res.deleted, "deleted"),
    prevKvs: fromWireKeyValues(res.prevKvs, "prev_kvs"),
  };
}

// --- CompareAndSwap ---

export interface CompareAndSwapCall {
  readonly key: Uint8Array;
  readonly expected: Uint8Array | undefined;
  readonly value: Uint8Array;
  readonly opts: WithSession;
}

export function toWireCompareAndSwapRequest(
  key: Bytes,
  expected: Bytes | undefined,
  value: Bytes,
  session: WriteSession | undefined,
): CompareAndSwapRequest {
  return create(CompareAndSwapRequestSchema, {
    key: toBytes(key),
    ...(expected === undefined ? {} : { expected: toBytes(expected) }),
    value: toBytes(value),
    session: toWireSession(session),
  });
}

export function fromWireCompareAndSwapRequest(req: CompareAndSwapRequest): CompareAndSwapCall {
  return {
    key: requireKey(req.key, "key"),
    expected: req.expected,
    value: req.value,
    opts: withSession({}, fromWireSession(req.session)),
  };
}

export function toWireCompareAndSwapResponse(r: CompareAndSwapResult): CompareAndSwapResponse {
  return create(CompareAndSwapResponseSchema, {
    succeeded: r.succeeded,
    revision: toU64(r.revision, "revision"),
    ...(r.prevKv ? { prevKv: toWireKeyValue(r.prevKv) } : {}),
  });
}

export function fromWireCompareAndSwapResponse(res: CompareAndSwapResponse): CompareAndSwapResult {
  return {
    succeeded: res.succeeded,
    revision: fromU64(res.revision, "revision"),
    ...(res.prevKv ? { prevKv: fromWireKeyValue(res.prevKv, "prev_kv") } : {}),
  };
}

// --- Txn ---

export interface TxnCall {
  readonly txn: Txn;
  readonly opts: WithSession;
}

export function toWireTxnRequest(txn: Txn, session: WriteSession | undefined): TxnRequest {
  return create(TxnRequestSchema, { txn: toWireTxn(txn), session: toWireSession(session) });
}

export function fromWireTxnRequest(req: TxnRequest): TxnCall {
  return { txn: fromWireTxn(req.txn), opts: withSession({}, fromWireSession(req.session)) };
}

export function toWireTxnResponse(r: TxnResult): TxnResponse {
  return create(TxnResponseSchema, { result: toWireTxnResult(r) });
}

export function fromWireTxnResponse(res: TxnResponse): TxnResult {
  return fromWireTxnResult(res.result);
}

// --- Compact ---

export interface CompactCall {
  readonly revision: number;
  readonly opts: WithSession;
}

export function toWireCompactRequest(
  revision: number,
  session: WriteSession | undefined,
): CompactRequest {
  return create(CompactRequestSchema, {
    revision: toU64(revision, "revision"),
    session: toWireSession(session),
  });
}

export function fromWireCompactRequest(req: CompactRequest): CompactCall {
  const revision = fromU64(req.revision, "revision");
  if (revision === 0) throw new InvalidArgumentError("revision is required (a positive revision)");
  return { revision, opts: withSession({}, fromWireSession(req.session)) };
}

export function toWireCompactResponse(r: { readonly revision: number }): CompactResponse {
  return create(CompactResponseSchema, { revision: toU64(r.revision, "revision") });
}

export function fromWireCompactResponse(res: CompactResponse): { readonly revision: number } {
  return { revision: fromU64(res.revision, "revision") };
}
