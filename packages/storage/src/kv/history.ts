// Replay of past events from the stored history, for watches that start at a past revision.
// The changes table lists the (revision, key) pairs every apply batch wrote, and the keyspace
// keeps each key's versions and tombstones until compaction: together they rebuild exactly the
// events that were emitted live (same order within a revision, same previous versions), on any
// backend, because the tables are the same on every backend.

import { u64Key } from "./bytes.js";
import { compactedError } from "./errors.js";
import { histKey, histPrefix, type Keyspace } from "./keyspace.js";
import { isTombstone } from "./record-codec.js";
import type { ChangeRecord, KvTableSet } from "./tables.js";
import type { KeyValue, KvEvent, KvRevisionEvents } from "./types.js";

/** Batches of one read (a bound on the work of one call; callers page on). */
export const DEFAULT_HISTORY_LIMIT = 1000;

/**
 * The events of revisions `start`..`current`, by revision, at most `limit` revisions (the
 * caller continues from the last one returned + 1). `start` at or below `compacted` throws
 * KvError "compacted": that revision's previous versions and tombstones may be gone.
 */
export function eventsSince(
  t: KvTableSet,
  ks: Keyspace,
  start: number,
  current: number,
  compacted: number,
  limit = DEFAULT_HISTORY_LIMIT,
): KvRevisionEvents[] {
  const from = Math.max(1, Math.floor(start));
  if (from <= compacted) throw compactedError(from, compacted);
  if (from > current) return [];
  const max = Math.max(1, Math.floor(limit));
  // The entry holding `from` is keyed by its first revision, at or below `from`.
  let first = u64Key(from);
  for (const [k] of t.changes.range(u64Key(0), u64Key(from + 1), true)) {
    first = k;
    break;
  }
  const out: KvRevisionEvents[] = [];
  let batch: { revision: number; events: KvEvent[] } | undefined;
  // Records are collected before any version is read: a table must not be read (LMDB cursor)
  // while its own iterator is open, and reads of other tables in between are fine, but keeping
  // the two phases apart keeps this obviously safe.
  const records: ChangeRecord[] = [];
  let revisions = 0;
  let last = 0;
  outer: for (const [, list] of t.changes.range(first, undefined)) {
    for (const r of list) {
      if (r.revision < from) continue;
      if (r.revision !== last) {
        if (revisions === max) break outer;
        revisions++;
        last = r.revision;
      }
      records.push(r);
    }
  }
  for (const r of records) {
    if (batch === undefined || batch.revision !== r.revision) {
      batch = { revision: r.revision, events: [] };
      out.push(batch);
    }
    batch.events.push(eventAt(t, ks, r));
  }
  return out;
}

function eventAt(t: KvTableSet, ks: Keyspace, r: ChangeRecord): KvEvent {
  const kv = ks.writtenAt(r.key, r.revision);
  if (kv === undefined) {
    // Only compaction removes what a change record names, and compacted revisions are refused.
    throw new Error(`history of revision ${r.revision} is missing a key's record`);
  }
  // The version before this change is the newest history record below the revision (a put or
  // delete moves the version it replaces there); a tombstone there means the key did not exist.
  let prev: KeyValue | undefined;
  for (const [, rec] of t.hist.range(histPrefix(r.key), histKey(r.key, r.revision), true)) {
    prev = rec;
    break;
  }
  const prevKv = prev === undefined || isTombstone(prev) ? undefined : prev;
  const type = isTombstone(kv) ? "delete" : "put";
  return prevKv === undefined ? { type, kv } : { type, kv, prevKv };
}
