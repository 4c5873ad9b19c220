// protobuf-es generates bigint for uint64 fields while the core keeps indexes, terms and node ids
// as safe-integer numbers: the conversions check that nothing is lost either way.
import { CodecError } from "./errors.js";

const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/** A uint64 from the wire as a number; throws CodecError if it is not a safe integer. */
export function toSafeNumber(v: bigint, what: string): number {
  if (v > MAX) throw new CodecError(`${what} ${v} is larger than 2^53 - 1`);
  return Number(v);
}

/** Checks a number bound for a uint64 field. */
export function checkU64(v: number, what: string): number {
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new CodecError(`${what} ${v} is not a non-negative safe integer`);
  }
  return v;
}
