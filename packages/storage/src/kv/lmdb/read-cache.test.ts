import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { seededRng } from "@d-engine/core";
import { afterAll, describe, expect, it } from "vitest";
import type { KeyValue } from "../types.js";
import { LmdbTables } from "./lmdb-tables.js";
import { KvReadCache } from "./read-cache.js";

const root = await mkdtemp(join(tmpdir(), "dengine-read-cache-"));
let dirs = 0;
const open: LmdbTables[] = [];

afterAll(async () => {
  for (const t of open) await t.close();
  await rm(root, { recursive: true, force: true });
});

function tables(readCache?: { maxBytes?: number; maxValueBytes?: number }): LmdbTables {
  const t = new LmdbTables({
    path: join(root, `db-${dirs++}`),
    ...(readCache ? { readCache } : {}),
  });
  open.push(t);
  return t;
}

const bytes = (s: string) => new TextEncoder().encode(s);

function record(key: string, value: string, rev: number): KeyValue {
  return {
    key: bytes(key),
    createRevision: 1,
    modRevision: rev,
    version: rev,
    value: bytes(value),
    lease: 0,
  };
}

const text = (kv: KeyValue | undefined) =>
  kv === undefined ? undefined : new TextDecoder().decode(kv.value);

describe("KvReadCache", () => {
  it("hands out fresh copies: a caller changing one cannot reach the cache", () => {
    const c = new KvReadCache();
    c.remember(bytes("a"), record("a", "one", 2));
    const first = c.get(bytes("a")) as KeyValue;
    (first.value as Uint8Array)[0] = 0x7a;
    expect(text(c.get(bytes("a")))).toBe("one");
    expect(c.get(bytes("a"))?.modRevision).toBe(2);
  });

  it("forgets a key, keeps the others, and finds every one of many keys", () => {
    const c = new KvReadCache();
    for (let i = 0; i < 5_000; i++) c.remember(bytes(`k${i}`), record(`k${i}`, `v${i}`, i + 1));
    c.forget(bytes("k17"));
    expect(c.get(bytes("k17"))).toBeUndefined();
    for (let i = 0; i < 5_000; i++) {
      if (i !== 17) expect(text(c.get(bytes(`k${i}`)))).toBe(`v${i}`);
    }
  });

  it("stays within its byte budget and never keeps oversized values", () => {
    const c = new KvReadCache({ maxBytes: 10_000, maxValueBytes: 500 });
    c.remember(bytes("big"), record("big", "x".repeat(501), 1));
    expect(c.get(bytes("big"))).toBeUndefined();
    for (let i = 0; i < 200; i++) {
      c.remember(bytes(`k${i}`), record(`k${i}`, "y".repeat(100), 1));
      expect(c.size).toBeLessThanOrEqual(10_000);
    }
    // The newest key is always kept (the budget starts over before it, not after).
    expect(text(c.get(bytes("k199")))).toBe("y".repeat(100));
  });

  it("remembers nothing while a write transaction is open", () => {
    const c = new KvReadCache();
    c.writing = true;
    c.remember(bytes("a"), record("a", "uncommitted", 1));
    c.writing = false;
    expect(c.get(bytes("a"))).toBeUndefined();
  });
});

describe("LmdbTables with the read cache", () => {
  it("a write replaces what a read cached; a delete removes it", () => {
    const t = tables();
    t.write(() => t.kv.put(bytes("a"), record("a", "one", 1)));
    expect(text(t.kv.get(bytes("a")))).toBe("one");
    expect(text(t.kv.get(bytes("a")))).toBe("one"); // from the cache now
    t.write(() => t.kv.put(bytes("a"), record("a", "two", 2)));
    expect(text(t.kv.get(bytes("a")))).toBe("two");
    t.write(() => t.kv.delete(bytes("a")));
    expect(t.kv.get(bytes("a"))).toBeUndefined();
    t.write(() => t.kv.insert(bytes("a"), record("a", "three", 3)));
    expect(text(t.kv.get(bytes("a")))).toBe("three");
  });

  it("an aborted write leaves the committed value, even one read inside it", () => {
    const t = tables();
    t.write(() => t.kv.put(bytes("a"), record("a", "committed", 1)));
    expect(text(t.kv.get(bytes("a")))).toBe("committed");
    expect(() =>
      t.write(() => {
        t.kv.put(bytes("a"), record("a", "aborted", 2));
        t.kv.put(bytes("b"), record("b", "aborted", 2));
        // Reads inside the transaction see its writes; the cache must not keep them.
        expect(text(t.kv.get(bytes("a")))).toBe("aborted");
        expect(text(t.kv.get(bytes("b")))).toBe("aborted");
        throw new Error("abort");
      }),
    ).toThrow("abort");
    expect(text(t.kv.get(bytes("a")))).toBe("committed");
    expect(t.kv.get(bytes("b"))).toBeUndefined();
  });

  it("clear (a snapshot install) drops everything cached", () => {
    const t = tables();
    t.write(() => t.kv.put(bytes("a"), record("a", "one", 1)));
    expect(text(t.kv.get(bytes("a")))).toBe("one");
    t.write(() => {
      t.clear();
      t.kv.put(bytes("b"), record("b", "two", 2));
    });
    expect(t.kv.get(bytes("a"))).toBeUndefined();
    expect(text(t.kv.get(bytes("b")))).toBe("two");
  });

  it("read views (snapshots) see their own point in time, not the cache", () => {
    const t = tables();
    t.write(() => t.kv.put(bytes("a"), record("a", "old", 1)));
    const view = t.view();
    try {
      t.write(() => t.kv.put(bytes("a"), record("a", "new", 2)));
      expect(text(t.kv.get(bytes("a")))).toBe("new");
      expect(text(view.tables.kv.get(bytes("a")))).toBe("old");
    } finally {
      view.release();
    }
  });

  // Random puts, deletes, aborted batches and reads against a plain map; any stale or
  // uncommitted answer from the cache shows up as a difference.
  for (const seed of [7, 1234, 99_001]) {
    it(`agrees with a model under random writes, aborts and reads (seed ${seed})`, () => {
      console.log(`read cache model test: seed ${seed}`);
      const rng = seededRng(seed);
      // A small budget, so that the cache also starts over during the run.
      const t = tables({ maxBytes: 4_000, maxValueBytes: 200 });
      const model = new Map<string, string>();
      const key = () => `k${rng.nextInt(40)}`;
      let rev = 0;
      for (let step = 0; step < 3_000; step++) {
        const r = rng.nextInt(10);
        if (r < 5) {
          const k = key();
          expect(text(t.kv.get(bytes(k))), `step ${step}, get ${k}`).toBe(model.get(k));
          continue;
        }
        const abort = r === 9;
        const staged = new Map(model);
        const writes = 1 + rng.nextInt(4);
        try {
          t.write(() => {
            for (let w = 0; w < writes; w++) {
              const k = key();
              if (rng.nextInt(4) === 0) {
                t.kv.delete(bytes(k));
                staged.delete(k);
              } else {
                const v = `v${++rev}`.padEnd(1 + rng.nextInt(300), "-");
                t.kv.put(bytes(k), record(k, v, rev));
                staged.set(k, v);
              }
              // Reads inside the batch see the batch.
              const probe = key();
              expect(text(t.kv.get(bytes(probe)))).toBe(staged.get(probe));
            }
            if (abort) throw new Error("abort");
          });
        } catch (e) {
          if (!abort) throw e;
          continue;
        }
        for (const [k, v] of staged) model.set(k, v);
        for (const k of [...model.keys()]) if (!staged.has(k)) model.delete(k);
      }
    });
  }
});
