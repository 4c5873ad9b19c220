// The KV state machine, written once over the KvTables interface: each backend supplies tables
// (memory: sorted maps; LMDB: databases of one environment) and gets identical semantics. It
// decodes commands, runs them through sessions (exactly once), writes, leases and compaction,
// keeps the scalar state (applied index, revision, compacted revision, log time) and saves it
// with every batch, in the same atomic write as the data.

import { concatBytes, prefixEnd, u64Key, u64PairKey, u64PrefixedKey } from "./bytes.js";
import { decodeKvCommand } from "./codec.js";
import { checkCompaction, compact } from "./compaction.js";
import { invalidArgument, KvError, type KvFailure } from "./errors.js";
import { EventHub, type KvEventListener } from "./events.js";
import { eventsSince } from "./history.js";
import { histKey, Keyspace } from "./keyspace.js";
import { Leases } from "./leases.js";
import { checkCount, checkKey, rangeKeys, readRevision } from "./range.js";
import { DEFAULT_SESSION_OPTIONS, Sessions } from "./sessions.js";
import {
  type DecodedSnapshot,
  decodeSnapshot,
  encodeSnapshot,
  type SnapshotSource,
} from "./snapshot-codec.js";
import type {
  KvBackend,
  KvStateMachine,
  PrefixScan,
  PrefixScanOptions,
  ReadOptions,
} from "./state-machine.js";
import type { ChangeRecord, KvTables, LeaseRecord, StateMeta } from "./tables.js";
import { applyTxn, checkTxn } from "./txn.js";
import type {
  ApplyResult,
  KeyValue,
  KvCommand,
  KvEntry,
  KvErrorCode,
  KvEvent,
  KvOperation,
  KvResponse,
  KvRevisionEvents,
  LeaseInfo,
  LeaseTimeToLive,
  RangeRequest,
  RangeResponse,
} from "./types.js";
import { KV_ERROR_CODES } from "./types.js";
import { applyDeleteRange, applyPut, checkDeleteRange, checkPut, Writer } from "./writes.js";

/** Settings that change what commands do: every replica must use the same. */
export interface KvStateMachineOptions {
  /** Log time (ms) after a client's last write at which its session is forgotten (0: never). */
  readonly sessionIdleMs?: number;
  /** The most answers remembered per client session. */
  readonly maxSessionAnswers?: number;
}

/** Errors that are answers to a command (the rest are thrown). */
const COMMAND_ERRORS: ReadonlySet<KvFailure> = new Set<KvFailure>(KV_ERROR_CODES);

const NOOP: KvCommand = { op: { type: "noop" } };
/**
 * The most (approximate) encoded bytes of change records per changes-table entry. Entries this
 * small fit in an LMDB leaf page. A batch's whole list as one value (16 bytes a record, so
 * 16 KB for 1,024 puts) went to overflow pages and took 0.4-0.7 ms to write, against under
 * 0.1 ms as 1.5 KB entries. A revision is never split (its first revision is the entry's key),
 * so one revision that wrote more keys still gets one, larger, entry.
 */
const CHANGE_ENTRY_BYTES = 1536;

export class KvEngine implements KvStateMachine {
  /** Mutated in place while applying (one object per batch would do, one per command is waste). */
  private meta: { -readonly [K in keyof StateMeta]: StateMeta[K] };
  /** No session was last seen before this log time (a lower bound): expiry has nothing to do. */
  private earliestSessionMs = 0;
  private readonly ks: Keyspace;
  private readonly leaseTable: Leases;
  private readonly sessions: Sessions;
  private readonly sessionIdleMs: number;
  private readonly hub = new EventHub();
  private unusable: string | undefined;
  private closed = false;

  constructor(
    readonly backend: KvBackend,
    protected readonly tables: KvTables,
    options: KvStateMachineOptions = {},
  ) {
    this.meta = { ...tables.loadMeta() };
    this.ks = new Keyspace(tables);
    this.leaseTable = new Leases(tables);
    this.sessionIdleMs = options.sessionIdleMs ?? DEFAULT_SESSION_OPTIONS.idleMs;
    this.sessions = new Sessions(tables, {
      idleMs: this.sessionIdleMs,
      maxAnswers: Math.max(1, options.maxSessionAnswers ?? DEFAULT_SESSION_OPTIONS.maxAnswers),
    });
  }

  protected checkUsable(): void {
    if (this.unusable !== undefined) throw new KvError("closed", this.unusable);
  }

  appliedIndex(): number {
    return this.meta.appliedIndex;
  }

  revision(): number {
    return this.meta.revision;
  }

  compactRevision(): number {
    return this.meta.compactRevision;
  }

  logTimeMs(): number {
    return this.meta.logTimeMs;
  }

  onEvents(listener: KvEventListener): () => void {
    return this.hub.add(listener);
  }

  // ---- apply ----

  apply(index: number, command: Uint8Array | KvCommand): ApplyResult {
    return this.applyBatch([{ index, command }])[0] as ApplyResult;
  }

  applyBatch(entries: readonly KvEntry[]): ApplyResult[] {
    this.checkUsable();
    let last = this.meta.appliedIndex;
    for (const e of entries) {
      if (!Number.isSafeInteger(e.index) || e.index <= last) {
        throw new KvError(
          "index-regression",
          `entry index ${e.index} is not above the applied index ${last}`,
        );
      }
      last = e.index;
    }
    if (entries.length === 0) return [];
    const before = { ...this.meta };
    const changes: ChangeRecord[] = [];
    let results: ApplyResult[];
    try {
      results = this.tables.write(() => {
        this.sessions.beginBatch();
        const out = entries.map((e) => this.applyOne(e, changes));
        this.sessions.endBatch();
        putChanges(this.tables, changes);
        this.tables.saveMeta(this.meta);
        return out;
      });
    } catch (e) {
      this.sessions.abortBatch();
      // The memory tables may hold part of the batch: nothing can be trusted until a reopen
      // (LMDB rolled back, but it is simpler to treat every backend alike).
      this.meta = before;
      this.unusable = `the state machine failed applying entries ${entries[0]?.index}..${last} (${
        (e as Error).message
      }); reopen it`;
      throw e;
    }
    for (const r of results) {
      if (r.events.length > 0) {
        this.hub.emit({ index: r.index, revision: r.response.revision, events: r.events });
      }
    }
    return results;
  }

  private applyOne(entry: KvEntry, changes: ChangeRecord[]): ApplyResult {
    const index = entry.index;
    let cmd: KvCommand;
    try {
      const c = entry.command;
      // Tables that copy what they store (LMDB) can take views into the entry's bytes.
      cmd =
        c instanceof Uint8Array
          ? c.length === 0
            ? NOOP
            : decodeKvCommand(c, !this.tables.copiesOnWrite)
          : c;
      checkCount(cmd.timeMs, "log time");
    } catch (e) {
      this.meta.appliedIndex = index;
      return { index, response: this.errorResponse(e), events: [], duplicate: false };
    }
    const now = Math.max(this.meta.logTimeMs, cmd.timeMs ?? 0);
    this.meta.appliedIndex = index;
    this.meta.logTimeMs = now;
    if (now - this.sessionIdleMs >= this.earliestSessionMs && this.sessionIdleMs > 0) {
      this.earliestSessionMs = this.sessions.expire(now);
    }

    const s = cmd.session;
    if (s === undefined) {
      // Built field by field: the object spread this replaced stood out in profiles.
      const out = this.execute(cmd.op, index, now, changes);
      return { index, response: out.response, events: out.events, duplicate: false };
    }
    try {
      Sessions.check(s);
    } catch (e) {
      return { index, response: this.errorResponse(e), events: [], duplicate: false };
    }
    const seen = this.sessions.lookup(s);
    if (seen.kind === "duplicate") {
      this.sessions.touch(s.clientId, now);
      this.earliestSessionMs = Math.min(this.earliestSessionMs, now);
      return { index, response: seen.response, events: [], duplicate: true };
    }
    if (seen.kind === "discarded") {
      const response: KvResponse = {
        type: "error",
        revision: this.meta.revision,
        code: "session-answer-discarded",
        message: `client "${s.clientId}" sequence ${s.sequence} was applied before and its answer was forgotten (answers below ${seen.floor} are gone)`,
      };
      return { index, response, events: [], duplicate: false };
    }
    const out = this.execute(cmd.op, index, now, changes);
    this.sessions.remember(s, out.response, now);
    this.earliestSessionMs = Math.min(this.earliestSessionMs, now);
    return { index, ...out };
  }

  private errorResponse(e: unknown): KvResponse {
    if (e instanceof KvError && COMMAND_ERRORS.has(e.code)) {
      return {
        type: "error",
        revision: this.meta.revision,
        code: e.code as KvErrorCode,
        message: e.message,
      };
    }
    throw e;
  }

  private execute(
    op: KvOperation,
    index: number,
    now: number,
    changes: ChangeRecord[],
  ): { response: KvResponse; events: readonly KvEvent[]; duplicate: false } {
    const w = new Writer(this.ks, this.leaseTable, this.meta.revision, changes);
    let response: KvResponse;
    try {
      response = this.run(op, w, index, now, changes);
    } catch (e) {
      // Checks run before writes; an error after a write would leave half a command applied.
      if (w.changed) throw e;
      return { response: this.errorResponse(e), events: [], duplicate: false };
    }
    if (w.changed) this.meta.revision = w.revision;
    return { response, events: w.events, duplicate: false };
  }

  private run(
    op: KvOperation,
    w: Writer,
    index: number,
    now: number,
    changes: readonly ChangeRecord[],
  ): KvResponse {
    const rev = this.meta.revision;
    const compacted = this.meta.compactRevision;
    switch (op.type) {
      case "put": {
        checkPut(this.ks, this.leaseTable, op);
        const r = applyPut(w, op);
        return r.prevKv === undefined
          ? { type: "put", revision: r.revision }
          : { type: "put", revision: r.revision, prevKv: r.prevKv };
      }
      case "delete-range":
        checkDeleteRange(op);
        return { type: "delete-range", ...applyDeleteRange(w, op) };
      case "txn": {
        const checked = checkTxn(this.ks, this.leaseTable, op, rev, compacted);
        return { type: "txn", ...applyTxn(w, op, checked, compacted) };
      }
      case "compaction":
        checkCompaction(op.revision, rev, compacted);
        compact(this.tables, this.ks, compacted, op.revision, changes);
        this.meta.compactRevision = op.revision;
        return { type: "compaction", revision: rev };
      case "lease-grant": {
        Leases.checkTtl(op.ttl);
        const chosen = checkCount(op.id, "lease id");
        const id = chosen > 0 ? chosen : this.leaseTable.generateId(index);
        if (this.leaseTable.get(id) !== undefined) {
          throw new KvError("lease-exists", `lease ${id} already exists`);
        }
        this.leaseTable.grant(id, op.ttl, now, index);
        return { type: "lease-grant", revision: rev, id, ttl: op.ttl };
      }
      case "lease-revoke": {
        const lease = this.leaseTable.require(checkCount(op.id, "lease id"));
        this.revoke(w, lease);
        return { type: "lease-revoke", revision: w.current };
      }
      case "lease-keep-alive": {
        // Any lease still here is renewed: only the leader's monotonic clock says a lease ran
        // out, and its expire command (ordered after this one) then finds a newer renewIndex.
        const lease = this.leaseTable.require(checkCount(op.id, "lease id"));
        this.leaseTable.renew(lease, now, index);
        return { type: "lease-keep-alive", revision: rev, id: lease.id, ttl: lease.ttl };
      }
      case "lease-expire": {
        const gens = op.renewIndexes;
        if (gens !== undefined && gens.length > 0 && gens.length !== op.ids.length) {
          throw invalidArgument(
            `lease-expire has ${op.ids.length} ids but ${gens.length} renew indexes`,
          );
        }
        // Every check before the first revocation: an error after a write is fatal.
        for (const id of op.ids) checkCount(id, "lease id");
        const expired: number[] = [];
        const seen = new Set<number>();
        op.ids.forEach((id, i) => {
          if (seen.has(id)) return;
          seen.add(id);
          const lease = this.leaseTable.get(id);
          if (lease === undefined) return; // revoked already
          // Renewed since the leader decided (or, for an old command, not expired by log time).
          const stale =
            gens !== undefined && gens.length > 0
              ? lease.renewIndex !== gens[i]
              : lease.expiryMs > now;
          if (stale) return;
          this.revoke(w, lease);
          expired.push(id);
        });
        return { type: "lease-expire", revision: w.current, expired };
      }
      case "lease-checkpoint": {
        for (const c of op.checkpoints) {
          checkCount(c.id, "lease id");
          checkCount(c.remainingMs, "remaining time");
          checkCount(c.renewIndex, "renew index");
        }
        for (const c of op.checkpoints) {
          this.leaseTable.checkpoint(c.id, c.remainingMs, c.renewIndex, now);
        }
        return { type: "lease-checkpoint", revision: rev };
      }
      case "put-with-ttl": {
        checkKey(op.key);
        Leases.checkTtl(op.ttl);
        const id = this.leaseTable.generateId(index);
        this.leaseTable.grant(id, op.ttl, now, index);
        const prev = w.put(op.key, op.value, id);
        return op.prevKv && prev !== undefined
          ? { type: "put-with-ttl", revision: w.revision, lease: id, prevKv: prev }
          : { type: "put-with-ttl", revision: w.revision, lease: id };
      }
      case "noop":
        return { type: "noop", revision: rev };
    }
  }

  /** Deletes the lease's keys (at the command's revision) and forgets the lease. */
  private revoke(w: Writer, lease: LeaseRecord): void {
    for (const key of this.leaseTable.keys(lease.id)) {
      const kv = this.ks.latest(key);
      if (kv !== undefined) w.delete(kv);
    }
    this.leaseTable.remove(lease);
  }

  // ---- reads ----

  range(req: RangeRequest): RangeResponse {
    this.checkUsable();
    return rangeKeys(this.ks, req, this.meta.revision, this.meta.compactRevision);
  }

  get(key: Uint8Array, opts: ReadOptions = {}): KeyValue | undefined {
    // getMany's checks for one key, without its array and closure (the hot read path).
    this.checkUsable();
    const { revision: current, compactRevision } = this.meta;
    const rev = readRevision(opts.revision, current, compactRevision);
    checkKey(key);
    return this.ks.at(key, rev, current);
  }

  getMany(keys: readonly Uint8Array[], opts: ReadOptions = {}): (KeyValue | undefined)[] {
    this.checkUsable();
    const { revision: current, compactRevision } = this.meta;
    const rev = readRevision(opts.revision, current, compactRevision);
    return keys.map((k) => {
      checkKey(k);
      return this.ks.at(k, rev, current);
    });
  }

  prefixScan(prefix: Uint8Array, opts: PrefixScanOptions = {}): PrefixScan {
    // An empty prefix is every key: etcd's key "\0" with range end "\0".
    const all = prefix.length === 0;
    const r = this.range({
      key: all ? Uint8Array.of(0) : prefix,
      rangeEnd: all ? Uint8Array.of(0) : prefixEnd(prefix),
      revision: opts.revision,
      limit: opts.limit,
      keysOnly: opts.keysOnly,
    });
    return { revision: r.revision, kvs: r.kvs, more: r.more };
  }

  leaseTimeToLive(id: number, opts: { keys?: boolean; nowMs?: number } = {}): LeaseTimeToLive {
    this.checkUsable();
    return this.leaseTable.timeToLive(id, opts.nowMs ?? this.meta.logTimeMs, opts.keys ?? false);
  }

  leases(): LeaseInfo[] {
    this.checkUsable();
    return this.leaseTable.list();
  }

  lease(id: number): LeaseInfo | undefined {
    this.checkUsable();
    return this.leaseTable.get(id);
  }

  expiredLeases(nowMs: number, limit = 1000): number[] {
    this.checkUsable();
    return this.leaseTable.expired(nowMs, limit);
  }

  eventsSince(startRevision: number, limit?: number): KvRevisionEvents[] {
    this.checkUsable();
    const m = this.meta;
    return eventsSince(this.tables, this.ks, startRevision, m.revision, m.compactRevision, limit);
  }

  /** A client session's state (for tests and diagnostics). */
  session(
    clientId: string,
  ): { floor: number; lastSeenMs: number; sequences: number[] } | undefined {
    this.checkUsable();
    const s = this.sessions.get(clientId);
    if (s === undefined) return undefined;
    return {
      floor: s.floor,
      lastSeenMs: s.lastSeenMs,
      sequences: s.answers.map((a) => a.sequence),
    };
  }

  // ---- snapshots ----

  snapshot(frameBytes?: number): Iterable<Uint8Array> {
    this.checkUsable();
    const self = this;
    // The view (an LMDB read transaction) is taken at the first chunk and released at the last,
    // or when the consumer stops early: a stream never read holds nothing.
    function* chunks(): Generator<Uint8Array> {
      const view = self.tables.view();
      const applied = self.meta.appliedIndex;
      try {
        for (const chunk of encodeSnapshot(view, frameBytes)) {
          if (!view.isolated && self.meta.appliedIndex !== applied) {
            throw new KvError(
              "closed",
              `entries were applied while a snapshot of index ${applied} was being read; consume snapshot() synchronously`,
            );
          }
          yield chunk;
        }
      } finally {
        view.release();
      }
    }
    return chunks();
  }

  get isolatedSnapshots(): boolean {
    return this.tables.isolatedViews;
  }

  snapshotBytes(): Uint8Array {
    return concatBytes([...this.snapshot()]);
  }

  async restore(source: SnapshotSource): Promise<void> {
    this.checkUsable();
    // Keys and values stay views into the snapshot's chunks: a million small copies cost more
    // (allocation and GC) than the chunks they would free, and what they pin is bounded by the
    // snapshot's size.
    const snap = await decodeSnapshot(source, "snapshot", true);
    this.load(snap);
  }

  /** Replaces every table's content with a decoded snapshot's, in one atomic write. */
  protected load(snap: DecodedSnapshot): void {
    this.checkUsable();
    // The sessions' decoded records describe the tables being replaced (nothing reads them
    // while the snapshot is written; if that fails, possibly the snapshot's): forgotten after.
    try {
      this.loadTables(snap);
    } finally {
      this.sessions.forgetAll();
    }
    this.meta = { ...snap.meta };
    this.earliestSessionMs = 0;
  }

  private loadTables(snap: DecodedSnapshot): void {
    const t = this.tables;
    t.write(() => {
      t.clear();
      for (const kv of snap.live) {
        t.kv.put(kv.key, kv);
        if (kv.lease !== 0) t.leaseKeys.put(u64PrefixedKey(kv.lease, kv.key), true);
      }
      for (const kv of snap.history) t.hist.put(histKey(kv.key, kv.modRevision), kv);
      for (const lease of snap.leases) {
        t.leases.put(u64Key(lease.id), lease);
        t.leaseExpiry.put(u64PairKey(lease.expiryMs, lease.id), true);
      }
      for (const s of snap.sessions) this.sessions.save(s);
      rebuildChanges(t, snap);
      t.saveMeta(snap.meta);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unusable = "the state machine is closed";
    await this.tables.close();
  }
}

/**
 * The changes table from a snapshot's versions: every record at or above the compacted
 * revision (what later compactions and watch replays need), by revision, in entries that never
 * split a revision.
 */
function rebuildChanges(t: KvTables, snap: DecodedSnapshot): void {
  const from = snap.meta.compactRevision;
  const records: ChangeRecord[] = [];
  for (const list of [snap.live, snap.history]) {
    for (const kv of list) {
      // `created` unknown here: false makes compaction visit the key, which is always safe.
      if (kv.modRevision >= from) {
        records.push({ revision: kv.modRevision, key: kv.key, created: false });
      }
    }
  }
  records.sort((a, b) => a.revision - b.revision);
  putChanges(t, records);
}

/**
 * Writes change records (by ascending revision) as changes-table entries of about
 * CHANGE_ENTRY_BYTES, each keyed by its first revision and never splitting a revision.
 */
function putChanges(t: KvTables, records: readonly ChangeRecord[]): void {
  let i = 0;
  while (i < records.length) {
    const first = records[i] as ChangeRecord;
    let bytes = 0;
    let j = i;
    // 14 bytes cover a record's tags, lengths, a revision below 2^28 and the created flag.
    while (j < records.length && bytes < CHANGE_ENTRY_BYTES) {
      bytes += (records[j] as ChangeRecord).key.length + 14;
      j++;
    }
    while (j < records.length && records[j]?.revision === records[j - 1]?.revision) j++;
    t.changes.put(
      u64Key(first.revision),
      i === 0 && j === records.length ? records : records.slice(i, j),
    );
    i = j;
  }
}
