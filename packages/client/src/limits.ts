// Request limits, in one place: the client checks them before sending and the server checks them
// on receipt, with the same functions, so both reject the same requests with the same message
// (the limit's name, its value and the size that broke it).
import { toBytes } from "./bytes.js";
import { LimitExceededError } from "./errors.js";
import type { Bytes, Txn } from "./types.js";

export interface Limits {
  /** Largest key in bytes. */
  readonly maxKeyBytes: number;
  /** Largest value in bytes. */
  readonly maxValueBytes: number;
  /** Largest request in bytes (keys + values of one call). */
  readonly maxRequestBytes: number;
  /** Most operations (compares + ops, nested included) in one transaction. */
  readonly maxTxnOps: number;
  /** Most keys in one getMany. */
  readonly maxGetManyKeys: number;
}

/** etcd's defaults where etcd has one (1.5 MiB requests, 128 txn ops); keys as the storage allows. */
export const DEFAULT_LIMITS: Limits = {
  maxKeyBytes: 4096,
  maxValueBytes: 1024 * 1024,
  maxRequestBytes: 1536 * 1024,
  maxTxnOps: 128,
  maxGetManyKeys: 1024,
};

/** Throws LimitExceededError if `actual` exceeds the named limit. */
export function checkLimit(limits: Limits, name: keyof Limits, actual: number): void {
  const limit = limits[name];
  if (actual > limit) throw new LimitExceededError(name, limit, actual);
}

/** Checks one key and value (a put, a CAS) and the request they make. */
export function checkKeyValue(limits: Limits, key: Uint8Array, value?: Uint8Array): void {
  checkLimit(limits, "maxKeyBytes", key.length);
  if (value) checkLimit(limits, "maxValueBytes", value.length);
  checkLimit(limits, "maxRequestBytes", key.length + (value?.length ?? 0));
}

/** Checks a key (or the first key of a range) and its range end. */
export function checkKeyRange(limits: Limits, key: Uint8Array, rangeEnd?: Uint8Array): void {
  checkLimit(limits, "maxKeyBytes", key.length);
  if (rangeEnd) checkLimit(limits, "maxKeyBytes", rangeEnd.length);
  checkLimit(limits, "maxRequestBytes", key.length + (rangeEnd?.length ?? 0));
}

/** Checks a getMany: the number of keys, each key, and their sum. */
export function checkGetMany(limits: Limits, keys: readonly Uint8Array[]): void {
  checkLimit(limits, "maxGetManyKeys", keys.length);
  let total = 0;
  for (const k of keys) {
    checkLimit(limits, "maxKeyBytes", k.length);
    total += k.length;
  }
  checkLimit(limits, "maxRequestBytes", total);
}

/** Checks a compare-and-swap: the key, the expected and new values, and their sum. */
export function checkCompareAndSwap(
  limits: Limits,
  key: Uint8Array,
  expected: Uint8Array | undefined,
  value: Uint8Array,
): void {
  checkLimit(limits, "maxKeyBytes", key.length);
  if (expected) checkLimit(limits, "maxValueBytes", expected.length);
  checkLimit(limits, "maxValueBytes", value.length);
  checkLimit(limits, "maxRequestBytes", key.length + (expected?.length ?? 0) + value.length);
}

/**
 * Checks a transaction: the number of compares and operations, every key and value, and the
 * bytes of all of them together.
 */
export function checkTxn(limits: Limits, txn: Txn): void {
  const failure = txn.failure ?? [];
  checkLimit(limits, "maxTxnOps", txn.compare.length + txn.success.length + failure.length);
  let total = 0;
  const key = (b: Bytes | undefined): void => {
    if (b === undefined) return;
    const n = toBytes(b).length;
    checkLimit(limits, "maxKeyBytes", n);
    total += n;
  };
  const value = (b: Bytes | undefined): void => {
    if (b === undefined) return;
    const n = toBytes(b).length;
    checkLimit(limits, "maxValueBytes", n);
    total += n;
  };
  for (const c of txn.compare) {
    key(c.key);
    key(c.rangeEnd);
    value(c.value);
  }
  for (const op of [...txn.success, ...failure]) {
    key(op.key);
    if (op.type === "put") value(op.value);
    else key(op.rangeEnd);
  }
  checkLimit(limits, "maxRequestBytes", total);
}
