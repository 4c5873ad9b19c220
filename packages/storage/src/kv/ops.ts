// The d-engine operations, a thin layer on the etcd model (DESIGN.md principle 6): builders for
// the commands a client proposes (put, put with TTL, delete, compare-and-swap) and the reading of
// their answers. Reads (get, get many, prefix scan) are KvReader methods. Keys and values may be
// given as strings (UTF-8).

import { utf8 } from "./bytes.js";
import type { KeyValue, KvCommand, KvOperation, KvResponse } from "./types.js";

export type Bytes = Uint8Array | string;

export function toBytes(b: Bytes): Uint8Array {
  return typeof b === "string" ? utf8(b) : b;
}

export const kvOps = {
  put(key: Bytes, value: Bytes, opts: { lease?: number; prevKv?: boolean } = {}): KvOperation {
    return { type: "put", key: toBytes(key), value: toBytes(value), ...opts };
  },

  /** Grants a lease of `ttl` seconds (log time) and attaches the key to it, in one revision. */
  putWithTtl(key: Bytes, value: Bytes, ttl: number, opts: { prevKv?: boolean } = {}): KvOperation {
    return { type: "put-with-ttl", key: toBytes(key), value: toBytes(value), ttl, ...opts };
  },

  delete(key: Bytes, opts: { prevKv?: boolean } = {}): KvOperation {
    return { type: "delete-range", key: toBytes(key), ...opts };
  },

  /**
   * Sets `key` to `value` if its value is `expected`; `expected` null means the key must not
   * exist (create). A transaction: compare, then put, else read the current version.
   */
  compareAndSwap(key: Bytes, expected: Bytes | null, value: Bytes): KvOperation {
    const k = toBytes(key);
    return {
      type: "txn",
      compare: [
        expected === null
          ? { key: k, target: "create", result: "=", number: 0 }
          : { key: k, target: "value", result: "=", value: toBytes(expected) },
      ],
      success: [{ type: "put", key: k, value: toBytes(value) }],
      failure: [{ type: "range", key: k }],
    };
  },
};

/** Wraps an operation into a command with the leader's log time and an optional session. */
export function kvCommand(
  op: KvOperation,
  timeMs?: number,
  session?: KvCommand["session"],
): KvCommand {
  return { op, timeMs, session };
}

export interface CasResult {
  readonly succeeded: boolean;
  readonly revision: number;
  /** On failure: the key's current version (undefined if it does not exist). */
  readonly current?: KeyValue;
}

/** Reads the answer to compareAndSwap(). */
export function casResult(r: KvResponse): CasResult {
  if (r.type !== "txn") {
    throw new Error(
      `compare-and-swap answered ${r.type}${r.type === "error" ? `: ${r.message}` : ""}`,
    );
  }
  if (r.succeeded) return { succeeded: true, revision: r.revision };
  const read = r.responses[0];
  const current = read?.type === "range" ? read.kvs[0] : undefined;
  return { succeeded: false, revision: r.revision, current };
}
