// KvTables on LMDB (lmdb-js): one named database per table in one environment, binary keys and
// values. write() is one synchronous LMDB transaction; the engine saves the applied index inside
// it, so the data and the index a restart resumes from always agree. Records are dengine.v1
// messages (KeyValue by the fast codec, leases, sessions and meta by protobuf-es).
//
// Durability has two modes (see background-sync.ts): "commit" flushes every transaction to disk
// before write() returns; "background" commits without flushing and flushes the environment in
// the background, for a state machine whose log is the source of truth.

import { type Database, open, type RootDatabase, type Transaction } from "lmdb";
import { compareBytes, EMPTY } from "../bytes.js";
import {
  decodeLease,
  decodeMeta,
  decodeSessionRecord,
  encodeLease,
  encodeMeta,
  encodeSessionRecord,
} from "../codec.js";
import { decodeHistKey } from "../keyspace.js";
import { decodeChanges, readKeyValue, writeChanges, writeKeyValue } from "../record-codec.js";
import {
  type ChangeRecord,
  EMPTY_META,
  type KvTable,
  type KvTableSet,
  type KvTables,
  type KvTablesView,
  type LeaseRecord,
  type SessionRecord,
  type StateMeta,
} from "../tables.js";
import type { KeyValue } from "../types.js";
import { WireWriter } from "../wire.js";
import { BackgroundSync, markUnsynced } from "./background-sync.js";
import { KvReadCache, type ReadCacheOptions } from "./read-cache.js";
import { copyOut } from "./slab.js";

type Db = Database<unknown, Uint8Array>;

/**
 * Keys in and out as plain Uint8Arrays: lmdb-js's "binary" key encoding returns Buffers (a
 * Uint8Array subclass that compares unequal in tests and whose slice() is a view).
 */
const keyEncoder = {
  writeKey(key: Uint8Array, target: Uint8Array, start: number): number {
    target.set(key, start);
    return start + key.length;
  },
  readKey(buf: Uint8Array, start: number, end: number): Uint8Array {
    return copyOut(buf, start, end);
  },
};

/**
 * KeyValue records (kv and hist tables): lmdb-js passes its shared read buffer to decode() and
 * skips making a Buffer per value; the record's key is filled in from the table key after.
 * Writes pass already encoded bytes through.
 */
const keyValueEncoder = {
  encode: (bytes: Uint8Array): Uint8Array => bytes,
  decode: (buf: Uint8Array, size?: unknown): KeyValue =>
    readKeyValue(buf, 0, typeof size === "number" ? size : buf.length, EMPTY, copyOut),
};

/** KeyValue records and change lists are encoded into this reused buffer; putSync copies them into LMDB. */
const scratch = new WireWriter(4096);

/** Binary-valued tables: lmdb-js returns each value as a fresh Buffer for these decoders. */
interface Codec<V> {
  encode(value: V): Uint8Array;
  decode(bytes: Uint8Array): V;
}

const changesCodec: Codec<readonly ChangeRecord[]> = {
  // Into the reused writer as well: a batch's list is ~15 KB, put copies it into LMDB.
  encode: (list) => {
    scratch.pos = 0;
    writeChanges(scratch, list);
    return scratch.buf.subarray(0, scratch.pos);
  },
  decode: decodeChanges,
};

const leaseCodec: Codec<LeaseRecord> = { encode: encodeLease, decode: decodeLease };

const sessionCodec: Codec<SessionRecord> = {
  encode: encodeSessionRecord,
  decode: decodeSessionRecord,
};

const presentCodec: Codec<true> = {
  encode: () => EMPTY,
  decode: () => true,
};

interface TableAccess<V> {
  /** Decoded value for what db.get / getRange returned, given the table key. */
  fromDb(value: unknown, tableKey: Uint8Array): V;
  toDb(value: V): Uint8Array;
}

/** kv: the record omits the key (it is the table key). */
const kvAccess: TableAccess<KeyValue> = {
  fromDb: (v, k) => withKey(v as KeyValue, k),
  toDb: (kv) => encodeRecord(kv),
};

/** hist: the record omits the key (it is in the history key). */
const histAccess: TableAccess<KeyValue> = {
  fromDb: (v, hk) => withKey(v as KeyValue, decodeHistKey(hk).key),
  toDb: (kv) => encodeRecord(kv),
};

function withKey(kv: KeyValue, key: Uint8Array): KeyValue {
  (kv as { key: Uint8Array }).key = key;
  return kv;
}

function encodeRecord(kv: KeyValue): Uint8Array {
  // An exact-size buffer per record costs more than the LMDB write itself.
  scratch.pos = 0;
  writeKeyValue(scratch, kv, false);
  return scratch.buf.subarray(0, scratch.pos);
}

function binaryAccess<V>(codec: Codec<V>): TableAccess<V> {
  return {
    // A plain view over lmdb-js's fresh Buffer: decoders that keep views of their input
    // (protobuf-es bytes fields) must not hand Buffers on.
    fromDb: (v) => codec.decode(plain(v as Uint8Array)),
    toDb: (v) => codec.encode(v),
  };
}

function plain(b: Uint8Array): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

class LmdbTable<V> implements KvTable<V> {
  constructor(
    private readonly db: Db,
    private readonly access: TableAccess<V>,
    private readonly txn?: Transaction,
    /** The kv table outside read views only: see read-cache.ts for the rules. */
    private readonly cache?: KvReadCache,
  ) {}

  get(key: Uint8Array): V | undefined {
    const cache = this.cache;
    if (cache !== undefined) {
      const hit = cache.get(key);
      if (hit !== undefined) return hit as V;
    }
    const v = this.db.get(key, this.txn === undefined ? undefined : { transaction: this.txn });
    if (v === undefined) return undefined;
    const out = this.access.fromDb(v, key);
    cache?.remember(key, out as KeyValue);
    return out;
  }

  put(key: Uint8Array, value: V): void {
    this.cache?.forget(key);
    this.db.putSync(key, this.access.toDb(value));
  }

  insert(key: Uint8Array, value: V): boolean {
    // MDB_NOOVERWRITE: an existing key fails the condition, changing nothing. putSync returns
    // whether the put happened (lmdb-js's README; its typings say void).
    const put = this.db.putSync as (
      k: Uint8Array,
      v: Uint8Array,
      o: typeof NO_OVERWRITE,
    ) => unknown;
    this.cache?.forget(key);
    return put.call(this.db, key, this.access.toDb(value), NO_OVERWRITE) === true;
  }

  delete(key: Uint8Array): void {
    this.cache?.forget(key);
    this.db.removeSync(key);
  }

  *range(
    start: Uint8Array,
    end: Uint8Array | undefined,
    reverse = false,
  ): Generator<readonly [Uint8Array, V]> {
    if (end !== undefined && compareBytes(end, start) <= 0) return;
    // LMDB has no empty keys: an empty start means "from the first key".
    const low = start.length === 0 ? undefined : start;
    const opts = reverse
      ? { start: end, end: low, reverse: true, exclusiveStart: true, inclusiveEnd: true }
      : { start: low, end };
    for (const { key, value } of this.db.getRange({ ...opts, transaction: this.txn })) {
      const k = key as Uint8Array;
      yield [k, this.access.fromDb(value, k)];
    }
  }

  count(start: Uint8Array, end: Uint8Array | undefined): number {
    if (end !== undefined && compareBytes(end, start) <= 0) return 0;
    return this.db.getKeysCount({
      start: start.length === 0 ? undefined : start,
      end,
      transaction: this.txn,
    });
  }
}

const META_KEY = Uint8Array.of(0x6d); // "m"
const NO_OVERWRITE = { noOverwrite: true } as const;

export interface LmdbTablesOptions {
  /** The LMDB environment's directory path. */
  readonly path: string;
  /**
   * true (default): flush every write transaction to disk before it returns. false: commit
   * without flushing, flush in the background at most `syncIntervalMs` after a write, and mark
   * the environment as unsynced until a clean close (see background-sync.ts).
   */
  readonly sync?: boolean;
  /** With sync false: the most time a committed write waits for its flush (default 100 ms). */
  readonly syncIntervalMs?: number;
  /** The in-memory cache of recently read live keys (read-cache.ts); maxBytes 0 turns it off. */
  readonly readCache?: ReadCacheOptions;
}

const NAMES = [
  "kv",
  "hist",
  "changes",
  "leases",
  "leaseKeys",
  "leaseExpiry",
  "sessions",
  "sessionIdle",
  "meta",
] as const;

export class LmdbTables implements KvTables {
  readonly copiesOnWrite = true;
  readonly isolatedViews = true;
  readonly kv: LmdbTable<KeyValue>;
  readonly hist: LmdbTable<KeyValue>;
  readonly changes: LmdbTable<readonly ChangeRecord[]>;
  readonly leases: LmdbTable<LeaseRecord>;
  readonly leaseKeys: LmdbTable<true>;
  readonly leaseExpiry: LmdbTable<true>;
  readonly sessions: LmdbTable<SessionRecord>;
  readonly sessionIdle: LmdbTable<true>;
  private readonly root: RootDatabase<Uint8Array, Uint8Array>;
  private readonly dbs: Record<(typeof NAMES)[number], Db>;
  /** Set when opened with sync false. */
  private readonly background: BackgroundSync | undefined;
  private readonly cache: KvReadCache | undefined;

  constructor(readonly options: LmdbTablesOptions) {
    const unsynced = options.sync === false;
    // Marked before the first unsynced write can happen, and only removed by a clean close.
    if (unsynced) markUnsynced(options.path);
    this.root = open<Uint8Array, Uint8Array>({
      path: options.path,
      maxDbs: NAMES.length + 2,
      keyEncoding: "binary",
      encoding: "binary",
      // lmdb-js's overlapping sync still makes the next synchronous transaction wait for the
      // previous one's flush (measured: no faster than a synced commit), so: plain MDB_NOSYNC.
      ...(unsynced ? { noSync: true, overlappingSync: false } : {}),
    });
    this.background = unsynced
      ? new BackgroundSync(options.path, options.syncIntervalMs ?? 100, (done) =>
          // lmdb-js has env sync on the root (open.js) but not in its typings.
          (this.root as unknown as { sync(cb: (e?: unknown) => void): void }).sync(done),
        )
      : undefined;
    const dbs = {} as Record<(typeof NAMES)[number], Db>;
    for (const name of NAMES) {
      const records = name === "kv" || name === "hist";
      dbs[name] = this.root.openDB<unknown, Uint8Array>({
        name,
        keyEncoder,
        ...(records ? { encoder: keyValueEncoder } : { encoding: "binary" }),
      } as never);
    }
    this.dbs = dbs;
    const cache = new KvReadCache(options.readCache);
    this.cache = cache.maxBytes > 0 ? cache : undefined;
    const set = LmdbTables.tableSet(dbs, undefined, this.cache);
    this.kv = set.kv;
    this.hist = set.hist;
    this.changes = set.changes;
    this.leases = set.leases;
    this.leaseKeys = set.leaseKeys;
    this.leaseExpiry = set.leaseExpiry;
    this.sessions = set.sessions;
    this.sessionIdle = set.sessionIdle;
  }

  private static tableSet(
    dbs: Record<(typeof NAMES)[number], Db>,
    txn?: Transaction,
    cache?: KvReadCache,
  ) {
    return {
      kv: new LmdbTable(dbs.kv, kvAccess, txn, cache),
      hist: new LmdbTable(dbs.hist, histAccess, txn),
      changes: new LmdbTable(dbs.changes, binaryAccess(changesCodec), txn),
      leases: new LmdbTable(dbs.leases, binaryAccess(leaseCodec), txn),
      leaseKeys: new LmdbTable(dbs.leaseKeys, binaryAccess(presentCodec), txn),
      leaseExpiry: new LmdbTable(dbs.leaseExpiry, binaryAccess(presentCodec), txn),
      sessions: new LmdbTable(dbs.sessions, binaryAccess(sessionCodec), txn),
      sessionIdle: new LmdbTable(dbs.sessionIdle, binaryAccess(presentCodec), txn),
    };
  }

  private readMeta(txn?: Transaction): StateMeta {
    const b = this.dbs.meta.get(META_KEY, txn === undefined ? undefined : { transaction: txn });
    return b === undefined
      ? EMPTY_META
      : decodeMeta(b as Uint8Array, `LMDB state in ${this.options.path}`);
  }

  loadMeta(): StateMeta {
    return this.readMeta();
  }

  saveMeta(meta: StateMeta): void {
    this.dbs.meta.putSync(META_KEY, encodeMeta(meta));
  }

  write<T>(fn: () => T): T {
    const cache = this.cache;
    if (cache !== undefined) cache.writing = true;
    let out: T;
    try {
      out = this.root.transactionSync(fn);
    } catch (e) {
      // Aborted: keys it forgot are right to be gone, but be sure nothing uncommitted stays.
      cache?.clear();
      throw e;
    } finally {
      if (cache !== undefined) cache.writing = false;
    }
    this.background?.wrote();
    return out;
  }

  clear(): void {
    this.cache?.clear();
    for (const name of NAMES) this.dbs[name].clearSync();
    this.background?.wrote();
  }

  view(): KvTablesView {
    const txn = this.root.useReadTransaction();
    const tables: KvTableSet = LmdbTables.tableSet(this.dbs, txn);
    return {
      tables,
      meta: this.readMeta(txn),
      isolated: this.isolatedViews,
      release: () => txn.done(),
    };
  }

  async close(): Promise<void> {
    // A clean close flushes first, then clears the unsynced mark: the files are whole.
    await this.background?.close();
    await this.root.close();
    this.background?.markClean();
  }
}
