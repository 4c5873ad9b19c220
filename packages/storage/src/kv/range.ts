// Range reads with etcd's semantics (etcd server/etcdserver/apply.go Range): [key, rangeEnd) at a
// revision, filters on mod and create revisions, sort by key, version, create, mod or value,
// limit with `more`, keys-only and count-only. `count` is the number of keys in the range at the
// revision, before filters and limit, as etcd reports it.

import { compareBytes, EMPTY, rangeBound } from "./bytes.js";
import { compactedError, futureRevisionError, invalidArgument } from "./errors.js";
import { type Keyspace, MAX_KEY_BYTES } from "./keyspace.js";
import type { KeyValue, RangeRequest, RangeResponse, SortTarget } from "./types.js";

export function checkKey(key: Uint8Array, what = "key"): void {
  if (key.length === 0) throw invalidArgument(`${what} is empty`);
  if (key.length > MAX_KEY_BYTES) {
    throw invalidArgument(`${what} is ${key.length} bytes, more than the ${MAX_KEY_BYTES} allowed`);
  }
}

export function checkCount(n: number | undefined, what: string): number {
  const v = n ?? 0;
  if (!Number.isSafeInteger(v) || v < 0) throw invalidArgument(`${what} must be >= 0, got ${v}`);
  return v;
}

/** The revision a read at `requested` (0: current) sees; throws if compacted or in the future. */
export function readRevision(
  requested: number | undefined,
  current: number,
  compact: number,
): number {
  const req = checkCount(requested, "revision");
  const rev = req > 0 ? req : current;
  if (rev > current) throw futureRevisionError(rev, current);
  if (rev < compact) throw compactedError(rev, compact);
  return rev;
}

/** Checks a range request against the state without reading it (transactions check first). */
export function checkRange(req: RangeRequest, current: number, compact: number): void {
  checkKey(req.key);
  readRevision(req.revision, current, compact);
  for (const [n, what] of [
    [req.limit, "limit"],
    [req.minModRevision, "min mod revision"],
    [req.maxModRevision, "max mod revision"],
    [req.minCreateRevision, "min create revision"],
    [req.maxCreateRevision, "max create revision"],
  ] as const) {
    checkCount(n, what);
  }
}

function sortKey(target: SortTarget): (a: KeyValue, b: KeyValue) => number {
  switch (target) {
    case "key":
      return (a, b) => compareBytes(a.key, b.key);
    case "version":
      return (a, b) => a.version - b.version;
    case "create":
      return (a, b) => a.createRevision - b.createRevision;
    case "mod":
      return (a, b) => a.modRevision - b.modRevision;
    case "value":
      return (a, b) => compareBytes(a.value, b.value);
  }
}

/** Reads a range. `current` is the latest revision written (inside a transaction, its own). */
export function rangeKeys(
  ks: Keyspace,
  req: RangeRequest,
  current: number,
  compact: number,
): RangeResponse {
  checkRange(req, current, compact);
  const rev = readRevision(req.revision, current, compact);
  const limit = req.limit ?? 0;
  const target = req.sortTarget ?? "key";
  let order = req.sortOrder ?? "none";
  // etcd: results come in key order already; a non-key target with no order sorts ascending.
  if (target !== "key" && order === "none") order = "ascend";
  if (target === "key" && order === "ascend") order = "none";
  const minMod = req.minModRevision ?? 0;
  const maxMod = req.maxModRevision ?? 0;
  const minCreate = req.minCreateRevision ?? 0;
  const maxCreate = req.maxCreateRevision ?? 0;
  const filtered = minMod > 0 || maxMod > 0 || minCreate > 0 || maxCreate > 0;

  const bound = rangeBound(req.rangeEnd);
  let kvs: KeyValue[];
  let count: number;
  if (bound === null) {
    const kv = ks.at(req.key, rev, current);
    kvs = kv === undefined ? [] : [kv];
    count = kvs.length;
  } else if (bound !== undefined && compareBytes(bound, req.key) <= 0) {
    kvs = [];
    count = 0;
  } else {
    count = ks.countAt(req.key, bound, rev, current);
    if (req.countOnly) {
      kvs = [];
    } else if (
      !filtered &&
      limit > 0 &&
      (order === "none" || (target === "key" && rev >= current))
    ) {
      // Key order (either direction at the current revision): read only limit + 1 keys.
      kvs = [];
      for (const kv of ks.rangeAt(req.key, bound, rev, current, order === "descend")) {
        kvs.push(kv);
        if (kvs.length > limit) break;
      }
      order = "none";
    } else {
      kvs = [...ks.rangeAt(req.key, bound, rev, current)];
    }
  }
  if (req.countOnly) return { revision: rev, kvs: [], more: false, count };

  if (filtered) {
    kvs = kvs.filter(
      (kv) =>
        (minMod === 0 || kv.modRevision >= minMod) &&
        (maxMod === 0 || kv.modRevision <= maxMod) &&
        (minCreate === 0 || kv.createRevision >= minCreate) &&
        (maxCreate === 0 || kv.createRevision <= maxCreate),
    );
  }
  if (order !== "none") {
    const cmp = sortKey(target);
    // Array.prototype.sort is stable: ties stay in key order, the same on every backend.
    kvs.sort(order === "ascend" ? cmp : (a, b) => cmp(b, a));
  }
  let more = false;
  if (limit > 0 && kvs.length > limit) {
    kvs = kvs.slice(0, limit);
    more = true;
  }
  if (req.keysOnly) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
  return { revision: rev, kvs, more, count };
}
