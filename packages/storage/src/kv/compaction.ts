// Compaction: versions older than the one visible at the compaction revision become unreadable
// (reads below it fail with "compacted"), as in etcd. It is incremental: the changes table lists
// the keys each revision wrote, so a compaction visits only keys written since the previous one
// (a key untouched since then already has at most one version at or below that revision).
//
// A key whose only write since then created it (ChangeRecord.created) is skipped too: it was
// not live just before that write, so the previous compaction left none of its versions at or
// below its revision (the one visible there was nothing or a tombstone, and a visible tombstone
// is dropped), and the version the write made is the one visible at the new compaction revision
// whether or not a later write has superseded it. Visiting it would drop nothing. This matters:
// most writes create keys, and each visit is an LMDB range scan (~10-20 µs), which at thousands
// of writes a second cost a third of the write throughput on this machine.

import { u64Key } from "./bytes.js";
import { compactedError, futureRevisionError } from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import { checkCount } from "./range.js";
import type { ChangeRecord, KvTableSet } from "./tables.js";

/** etcd: compacting at or below the compacted revision, or past the current one, is refused. */
export function checkCompaction(revision: number, current: number, compacted: number): void {
  checkCount(revision, "compaction revision");
  if (revision > current) throw futureRevisionError(revision, current);
  if (revision <= compacted) throw compactedError(revision, compacted);
}

/**
 * Compacts from the previous compaction revision `from` to `to`. `pending` holds the change
 * records of the apply batch in progress, which reach the changes table only when the batch
 * ends: without them a compaction would skip the keys written earlier in its own batch, and the
 * result would depend on how entries were grouped into batches (which differs between replicas,
 * and between a run and the replay after a restart).
 */
export function compact(
  t: KvTableSet,
  ks: Keyspace,
  from: number,
  to: number,
  pending: readonly ChangeRecord[],
): void {
  const entries = [...t.changes.range(u64Key(0), u64Key(to + 1))];
  const keys = new Map<string, Uint8Array>();
  // Every key with a write in (from, to] that did more than create it; a key written twice in
  // the window (created, then overwritten or deleted) is visited through its later record.
  const visit = (r: ChangeRecord) => {
    if (!r.created && r.revision > from && r.revision <= to) keys.set(keyId(r.key), r.key);
  };
  for (const r of pending) visit(r);
  for (const [k, records] of entries) {
    let last = 0;
    for (const r of records) {
      visit(r);
      if (r.revision > last) last = r.revision;
    }
    // Revisions below `to` are unreadable now: their change records are no longer needed (the
    // record of `to` itself stays for a watch starting there).
    if (last < to) t.changes.delete(k);
  }
  for (const key of keys.values()) ks.compactKey(key, to);
}

function keyId(k: Uint8Array): string {
  let s = "";
  for (let i = 0; i < k.length; i++) s += String.fromCharCode(k[i] as number);
  return s;
}
