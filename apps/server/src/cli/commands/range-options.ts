// What get and del share: a key, or a range given by a range end, --prefix or --from-key.
import { prefixEnd, toBytes } from "@d-engine/client";
import { UsageError } from "../client/run.js";

/** The range end for "every key >= key". */
export const FROM_KEY_END = new Uint8Array([0]);

export interface RangeFlags {
  readonly prefix?: unknown;
  readonly fromKey?: unknown;
}

/** The range end the arguments ask for, or undefined for one key. Refuses contradictions. */
export function rangeEndOf(
  key: string,
  end: string | undefined,
  f: RangeFlags,
): Uint8Array | undefined {
  const given = [
    f.prefix ? "--prefix" : "",
    f.fromKey ? "--from-key" : "",
    end !== undefined ? "a range end" : "",
  ].filter((s) => s !== "");
  if (given.length > 1) throw new UsageError(`give only one of ${given.join(" and ")}`);
  if (f.prefix) return prefixEnd(toBytes(key));
  if (f.fromKey) return FROM_KEY_END;
  return end === undefined ? undefined : toBytes(end);
}
