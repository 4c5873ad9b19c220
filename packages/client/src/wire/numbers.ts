// uint64 on the wire, safe-integer numbers in the API. protobuf-es generates bigint for every
// uint64 (it does not honour [jstype = JS_NUMBER]), so every field crosses here, in both
// directions, and a value that does not fit is an InvalidArgumentError naming the field.
import { InvalidArgumentError } from "../errors.js";

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 from the wire as a number; throws InvalidArgumentError beyond 2^53 - 1. */
export function fromU64(v: bigint, field: string): number {
  if (v > MAX) {
    throw new InvalidArgumentError(`${field} is ${v}, beyond the largest safe integer (2^53 - 1)`);
  }
  return Number(v);
}

/** A number for a uint64 field; throws InvalidArgumentError unless a non-negative safe integer. */
export function toU64(n: number | undefined, field: string): bigint {
  if (n === undefined) return 0n;
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new InvalidArgumentError(`${field} must be a non-negative safe integer, got ${n}`);
  }
  return BigInt(n);
}

/** Like fromU64, for an id or revision that must be positive. */
export function fromPositiveU64(v: bigint, field: string): number {
  const n = fromU64(v, field);
  if (n === 0) throw new InvalidArgumentError(`${field} is required (a positive integer)`);
  return n;
}
