// KvTables in memory: one SortedMap per table, holding the objects themselves (no encoding).
// Writes are applied as they happen; the engine checks every command before it writes, and
// stops using the tables if a write ever throws halfway.

import {
  type ChangeRecord,
  EMPTY_META,
  type KvTable,
  type KvTables,
  type KvTablesView,
  type LeaseRecord,
  type SessionRecord,
  type StateMeta,
} from "../tables.js";
import type { KeyValue } from "../types.js";
import { SortedMap } from "./sorted-map.js";

class MemoryTable<V> implements KvTable<V> {
  readonly map = new SortedMap<V>();

  get(key: Uint8Array): V | undefined {
    return this.map.get(key);
  }

  put(key: Uint8Array, value: V): void {
    this.map.set(key, value);
  }

  insert(key: Uint8Array, value: V): boolean {
    if (this.map.get(key) !== undefined) return false;
    this.map.set(key, value);
    return true;
  }

  delete(key: Uint8Array): void {
    this.map.delete(key);
  }

  range(start: Uint8Array, end: Uint8Array | undefined, reverse = false) {
    return this.map.range(start, end, reverse);
  }

  count(start: Uint8Array, end: Uint8Array | undefined): number {
    return this.map.countRange(start, end);
  }
}

export class MemoryTables implements KvTables {
  readonly kv = new MemoryTable<KeyValue>();
  readonly hist = new MemoryTable<KeyValue>();
  readonly changes = new MemoryTable<readonly ChangeRecord[]>();
  readonly leases = new MemoryTable<LeaseRecord>();
  readonly leaseKeys = new MemoryTable<true>();
  readonly leaseExpiry = new MemoryTable<true>();
  readonly sessions = new MemoryTable<SessionRecord>();
  readonly sessionIdle = new MemoryTable<true>();
  readonly copiesOnWrite = false;
  readonly isolatedViews = false;
  private meta: StateMeta = EMPTY_META;

  loadMeta(): StateMeta {
    return this.meta;
  }

  saveMeta(meta: StateMeta): void {
    this.meta = { ...meta };
  }

  write<T>(fn: () => T): T {
    return fn();
  }

  clear(): void {
    for (const t of [
      this.kv,
      this.hist,
      this.changes,
      this.leases,
      this.leaseKeys,
      this.leaseExpiry,
      this.sessions,
      this.sessionIdle,
    ]) {
      t.map.clear();
    }
    this.meta = EMPTY_META;
  }

  view(): KvTablesView {
    return { tables: this, meta: this.meta, isolated: this.isolatedViews, release: () => {} };
  }

  async close(): Promise<void> {}
}
