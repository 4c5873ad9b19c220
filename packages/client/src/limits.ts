// Request limits, in one place: the client checks them before sending and the server checks them
// on receipt, with the same functions, so both reject the same requests with the same message
// (the limit's name, its value and the size that broke it).
import { LimitExceededError } from "./errors.js";

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
