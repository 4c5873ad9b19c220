// Transactions with etcd's semantics (etcd server/etcdserver/txn.go): compares evaluated against
// the state before the transaction (nested transactions' too: etcd computes the whole path
// first), checks of the operations on that path, then the operations in order. Reads inside see
// the transaction's earlier writes. All writes share one revision, so a key may be written once:
// etcd's checkIntervals refuses a put of a key put or deleted elsewhere in the transaction
// (a nested then/else pair may put the same key, since only one of them runs).

import { bytesEqual, compareBytes, rangeBound } from "./bytes.js";
import { KvError } from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import type { Leases } from "./leases.js";
import { checkKey, checkRange, rangeKeys } from "./range.js";
import type { Compare, KeyValue, RequestOp, ResponseOp, TxnRequest, TxnResponse } from "./types.js";
import { applyDeleteRange, applyPut, checkDeleteRange, checkPut, type Writer } from "./writes.js";

/** Which branch each transaction on the path takes: ours, and those of nested transactions. */
interface TxnPath {
  readonly succeeded: boolean;
  /** By index of the nested transaction's op in the branch taken. */
  readonly nested: ReadonlyMap<number, TxnPath>;
}

function compareNumbers(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function compareKv(c: Compare, kv: KeyValue): boolean {
  let r: number;
  switch (c.target) {
    case "value":
      r = compareBytes(kv.value, c.value ?? new Uint8Array(0));
      break;
    case "version":
      r = compareNumbers(kv.version, c.number ?? 0);
      break;
    case "create":
      r = compareNumbers(kv.createRevision, c.number ?? 0);
      break;
    case "mod":
      r = compareNumbers(kv.modRevision, c.number ?? 0);
      break;
    case "lease":
      r = compareNumbers(kv.lease, c.number ?? 0);
      break;
  }
  switch (c.result) {
    case "=":
      return r === 0;
    case "!=":
      return r !== 0;
    case ">":
      return r > 0;
    case "<":
      return r < 0;
  }
}

const ABSENT: KeyValue = {
  key: new Uint8Array(0),
  createRevision: 0,
  modRevision: 0,
  version: 0,
  value: new Uint8Array(0),
  lease: 0,
};

/** etcd's applyCompare: every key of the range must satisfy it; a missing key is all zeros. */
function compareHolds(ks: Keyspace, c: Compare, current: number): boolean {
  const bound = rangeBound(c.rangeEnd);
  let kvs: KeyValue[];
  if (bound === null) {
    const kv = ks.latest(c.key);
    kvs = kv === undefined ? [] : [kv];
  } else {
    kvs = [...ks.rangeAt(c.key, bound, current, current)];
  }
  if (kvs.length === 0) {
    // A value cannot be compared with a key that does not exist (etcd: always false).
    return c.target === "value" ? false : compareKv(c, ABSENT);
  }
  return kvs.every((kv) => compareKv(c, kv));
}

function path(ks: Keyspace, req: TxnRequest, current: number): TxnPath {
  for (const c of req.compare) checkKey(c.key, "compare key");
  const succeeded = req.compare.every((c) => compareHolds(ks, c, current));
  const nested = new Map<number, TxnPath>();
  (succeeded ? req.success : req.failure).forEach((op, i) => {
    if (op.type === "txn") nested.set(i, path(ks, op, current));
  });
  return { succeeded, nested };
}

// ---- etcd's checkIntervals ----

interface Interval {
  readonly start: Uint8Array;
  /** null: the single key `start`; undefined: no upper bound. */
  readonly end: Uint8Array | null | undefined;
}

function contains(iv: Interval, k: Uint8Array): boolean {
  if (iv.end === null) return bytesEqual(iv.start, k);
  if (compareBytes(k, iv.start) < 0) return false;
  return iv.end === undefined || compareBytes(k, iv.end) < 0;
}

function keyId(k: Uint8Array): string {
  let s = "";
  for (let i = 0; i < k.length; i++) s += String.fromCharCode(k[i] as number);
  return s;
}

function duplicate(): KvError {
  return new KvError("duplicate-key", "duplicate key given in txn request");
}

function checkIntervals(ops: readonly RequestOp[]): { puts: Set<string>; dels: Interval[] } {
  const dels: Interval[] = [];
  for (const op of ops) {
    if (op.type === "delete-range") dels.push({ start: op.key, end: rangeBound(op.rangeEnd) });
  }
  const puts = new Set<string>();
  const deleted = (k: Uint8Array) => dels.some((iv) => contains(iv, k));
  for (const op of ops) {
    if (op.type !== "txn") continue;
    const then = checkIntervals(op.success);
    const otherwise = checkIntervals(op.failure);
    for (const k of then.puts) {
      if (puts.has(k) || deleted(fromKeyId(k))) throw duplicate();
      puts.add(k);
    }
    for (const k of otherwise.puts) {
      if (puts.has(k) && !then.puts.has(k)) throw duplicate();
      if (deleted(fromKeyId(k))) throw duplicate();
      puts.add(k);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (op.type !== "put") continue;
    const k = keyId(op.key);
    if (puts.has(k) || deleted(op.key)) throw duplicate();
    puts.add(k);
  }
  return { puts, dels };
}

function fromKeyId(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

// ---- check and apply ----

function checkOps(
  ks: Keyspace,
  leases: Leases,
  ops: readonly RequestOp[],
  p: TxnPath,
  current: number,
  compact: number,
): void {
  ops.forEach((op, i) => {
    switch (op.type) {
      case "range":
        checkRange(op, current, compact);
        break;
      case "put":
        checkPut(ks, leases, op);
        break;
      case "delete-range":
        checkDeleteRange(op);
        break;
      case "txn": {
        const np = p.nested.get(i) as TxnPath;
        checkOps(ks, leases, np.succeeded ? op.success : op.failure, np, current, compact);
        break;
      }
    }
  });
}

/** Everything a transaction is refused for, checked before it writes anything. */
export function checkTxn(
  ks: Keyspace,
  leases: Leases,
  req: TxnRequest,
  current: number,
  compact: number,
): TxnPathHandle {
  checkIntervals(req.success);
  checkIntervals(req.failure);
  const p = path(ks, req, current);
  checkOps(ks, leases, p.succeeded ? req.success : req.failure, p, current, compact);
  return { path: p };
}

/** The checked path, to hand to applyTxn. */
export interface TxnPathHandle {
  readonly path: TxnPath;
}

function runOp(w: Writer, op: RequestOp, nested: TxnPath | undefined, compact: number): ResponseOp {
  switch (op.type) {
    case "range":
      return { type: "range", ...rangeKeys(w.ks, op, w.current, compact) };
    case "put":
      return { type: "put", ...applyPut(w, op) };
    case "delete-range":
      return { type: "delete-range", ...applyDeleteRange(w, op) };
    case "txn": {
      const np = nested as TxnPath;
      const responses = runOps(w, np.succeeded ? op.success : op.failure, np, compact);
      return { type: "txn", revision: 0, succeeded: np.succeeded, responses };
    }
  }
}

function runOps(w: Writer, ops: readonly RequestOp[], p: TxnPath, compact: number): ResponseOp[] {
  return ops.map((op, i) => runOp(w, op, p.nested.get(i), compact));
}

/** Write answers inside a transaction report the transaction's final revision. */
function finalRevision(ops: ResponseOp[], rev: number): ResponseOp[] {
  return ops.map((op) => {
    switch (op.type) {
      case "range":
        return op;
      case "txn":
        return { ...op, revision: rev, responses: finalRevision([...op.responses], rev) };
      default:
        return { ...op, revision: rev };
    }
  });
}

export function applyTxn(
  w: Writer,
  req: TxnRequest,
  checked: TxnPathHandle,
  compact: number,
): TxnResponse {
  const p = checked.path;
  const responses = runOps(w, p.succeeded ? req.success : req.failure, p, compact);
  return {
    revision: w.current,
    succeeded: p.succeeded,
    responses: finalRevision(responses, w.current),
  };
}
