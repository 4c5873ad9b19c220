// Request checks made on every call before anything is proposed or read: the shared limits of
// @d-engine/client (the very functions the client runs, so both reject the same requests with
// the same message naming the limit and the size), and argument sanity with an error that names
// the argument.
import {
  checkCompareAndSwap,
  checkGetMany as checkGetManyLimits,
  checkKeyRange,
  checkKeyValue,
  checkTxn as checkTxnLimits,
  InvalidArgumentError,
  type Limits,
  type Txn,
  toBytes,
} from "@d-engine/client";

export function requireKey(key: Uint8Array, what = "key"): void {
  if (key.length === 0) throw new InvalidArgumentError(`${what} is empty`);
}

export function requireCount(v: number | undefined, what: string, min = 0): void {
  if (v === undefined) return;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new InvalidArgumentError(`${what} must be an integer >= ${min}, got ${v}`);
  }
}

export function checkKey(limits: Limits, key: Uint8Array, rangeEnd?: Uint8Array): void {
  checkKeyRange(limits, key, rangeEnd);
}

export function checkPut(limits: Limits, key: Uint8Array, value: Uint8Array): void {
  requireKey(key);
  checkKeyValue(limits, key, value);
}

export function checkGetMany(limits: Limits, keys: readonly Uint8Array[]): void {
  for (const k of keys) requireKey(k);
  checkGetManyLimits(limits, keys);
}

export function checkCas(
  limits: Limits,
  key: Uint8Array,
  expected: Uint8Array | undefined,
  value: Uint8Array,
): void {
  requireKey(key);
  checkCompareAndSwap(limits, key, expected, value);
}

export function checkTxn(limits: Limits, txn: Txn): void {
  for (const c of txn.compare) requireKey(toBytes(c.key), "compare key");
  for (const o of [...txn.success, ...(txn.failure ?? [])])
    requireKey(toBytes(o.key), `${o.type} key`);
  checkTxnLimits(limits, txn);
}
