// Writes at one revision: put and delete range with etcd's semantics, plus the Writer that every
// write of a command goes through. A command's writes share one revision (the Writer's); the
// revision advances only if something changed, as in etcd. Each change becomes an event (with
// the previous version) and a change record (for compaction and watch replay).
//
// Every check runs before the first write, so a failing command changes nothing.

import { rangeBound, showBytes } from "./bytes.js";
import { invalidArgument, KvError } from "./errors.js";
import type { Keyspace } from "./keyspace.js";
import type { Leases } from "./leases.js";
import { checkCount, checkKey } from "./range.js";
import { tombstone } from "./record-codec.js";
import type { ChangeRecord } from "./tables.js";
import type {
  DeleteRangeRequest,
  DeleteRangeResponse,
  KeyValue,
  KvEvent,
  PutRequest,
  PutResponse,
} from "./types.js";

export class Writer {
  /** The revision this command's writes get. */
  readonly revision: number;
  readonly events: KvEvent[] = [];

  constructor(
    readonly ks: Keyspace,
    readonly leases: Leases,
    /** The revision before the command. */
    readonly begin: number,
    private readonly changes: ChangeRecord[],
  ) {
    this.revision = begin + 1;
  }

  get changed(): boolean {
    return this.events.length > 0;
  }

  /** The latest revision as reads inside this command see it. */
  get current(): number {
    return this.changed ? this.revision : this.begin;
  }

  /** Writes a new version of `key`; returns the version it replaced. */
  put(key: Uint8Array, value: Uint8Array, lease: number): KeyValue | undefined {
    // Written as a new key first: that is one LMDB lookup, where reading the live version and
    // then writing takes two, and most puts create keys. An existing key is left untouched by
    // the attempt and takes the usual path.
    let kv: KeyValue = {
      key,
      createRevision: this.revision,
      modRevision: this.revision,
      version: 1,
      value,
      lease,
    };
    let prev: KeyValue | undefined;
    if (!this.ks.insert(kv)) {
      prev = this.ks.latest(key) as KeyValue;
      kv = {
        key,
        createRevision: prev.createRevision,
        modRevision: this.revision,
        version: prev.version + 1,
        value,
        lease,
      };
      this.ks.put(kv, prev);
    }
    const oldLease = prev === undefined ? 0 : prev.lease;
    if (oldLease !== lease) {
      if (oldLease !== 0) this.leases.detach(oldLease, key);
      if (lease !== 0) this.leases.attach(lease, key);
    }
    this.changes.push({ revision: this.revision, key, created: prev === undefined });
    this.events.push(prev === undefined ? { type: "put", kv } : { type: "put", kv, prevKv: prev });
    return prev;
  }

  /** Deletes the live version `prev`. */
  delete(prev: KeyValue): void {
    this.ks.delete(prev, this.revision);
    if (prev.lease !== 0) this.leases.detach(prev.lease, prev.key);
    this.changes.push({ revision: this.revision, key: prev.key, created: false });
    this.events.push({ type: "delete", kv: tombstone(prev.key, this.revision), prevKv: prev });
  }
}

/** etcd's checks of a put (checkRequestPut), against the state before the command. */
export function checkPut(ks: Keyspace, leases: Leases, req: PutRequest): void {
  checkKey(req.key);
  const lease = checkCount(req.lease, "lease");
  if (req.ignoreValue && req.value.length > 0) {
    throw invalidArgument("a value was given with ignoreValue");
  }
  if (req.ignoreLease && lease !== 0) throw invalidArgument("a lease was given with ignoreLease");
  if ((req.ignoreValue || req.ignoreLease) && ks.latest(req.key) === undefined) {
    throw new KvError("key-not-found", `key "${showBytes(req.key)}" not found`);
  }
  if (lease !== 0) leases.require(lease);
}

export function applyPut(w: Writer, req: PutRequest): PutResponse {
  const existing = req.ignoreValue || req.ignoreLease ? w.ks.latest(req.key) : undefined;
  const value = req.ignoreValue && existing !== undefined ? existing.value : req.value;
  const lease = req.ignoreLease && existing !== undefined ? existing.lease : (req.lease ?? 0);
  const prev = w.put(req.key, value, lease);
  return req.prevKv && prev !== undefined
    ? { revision: w.revision, prevKv: prev }
    : { revision: w.revision };
}

export function checkDeleteRange(req: DeleteRangeRequest): void {
  checkKey(req.key);
}

export function applyDeleteRange(w: Writer, req: DeleteRangeRequest): DeleteRangeResponse {
  const bound = rangeBound(req.rangeEnd);
  let doomed: KeyValue[];
  if (bound === null) {
    const kv = w.ks.latest(req.key);
    doomed = kv === undefined ? [] : [kv];
  } else {
    // Materialized first: the table must not change under its iterator.
    doomed = [...w.ks.rangeAt(req.key, bound, w.current, w.current)];
  }
  for (const kv of doomed) w.delete(kv);
  return {
    revision: w.current,
    deleted: doomed.length,
    prevKvs: req.prevKv ? doomed : [],
  };
}
