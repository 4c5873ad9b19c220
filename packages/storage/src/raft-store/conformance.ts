// The conformance suite every backend passes: call describeConformance(factory) from a test
// file. It checks the stores' contracts (log-store.ts, hard-state-store.ts, snapshot-store.ts)
// and the RaftStorage adapter, including across restarts in the same place.
import {
  type ConfState,
  EMPTY_CONF_STATE,
  EMPTY_HARD_STATE,
  type Entry,
  entrySize,
  isRaftError,
  seededRng,
} from "@d-engine/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { isStorageError } from "./errors.js";
import type { LogStore } from "./log-store.js";
import { RaftStorage } from "./raft-storage.js";
import type { RaftStores } from "./stores.js";
import type { BackendFactory, StoreOptions, StorePlace } from "./testing/backends.js";
import { entriesFor, entryProblem } from "./testing/entries.js";
import { runRandomCommands } from "./testing/log-model.js";

/** Seeds of the random-command test; each is printed in its test's name. */
export const RANDOM_SEEDS = [11, 22, 33, 44];

const CONF: ConfState = {
  ...EMPTY_CONF_STATE,
  voters: [1, 2, 3],
  learners: [4],
};

function bytes(n: number, seed: number): Uint8Array {
  const rng = seededRng(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.nextInt(256);
  return out;
}

/** Checks that the log holds exactly the entries with these terms from `first` on. */
function expectLog(log: LogStore, first: number, terms: readonly number[]): void {
  expect(log.firstIndex()).toBe(first);
  expect(log.lastIndex()).toBe(first + terms.length - 1);
  const got = log.entries(first, first + terms.length, Number.MAX_SAFE_INTEGER);
  expect(got.map((e) => e.term)).toEqual(terms);
  expect(got.map((e) => e.index)).toEqual(terms.map((_, i) => first + i));
  for (const e of got) expect(entryProblem(e)).toBeUndefined();
  terms.forEach((t, i) => {
    expect(log.term(first + i)).toBe(t);
  });
}

function expectCode(f: () => unknown, code: string): void {
  try {
    f();
  } catch (e) {
    if (isRaftError(e) || isStorageError(e)) {
      expect(e.code).toBe(code);
      return;
    }
    throw e;
  }
  throw new Error(`expected an error with code ${code}`);
}

async function expectRejects(p: Promise<unknown>, code: string): Promise<void> {
  await expect(p).rejects.toSatisfy((e: unknown) => isStorageError(e, code as never));
}

const repeat = (term: number, n: number): number[] => new Array<number>(n).fill(term);

/** Compares a loaded snapshot (byte arrays compared as buffers: toEqual is slow on 100 kB). */
function expectSnapshot(
  got: { metadata: unknown; data: Uint8Array } | undefined,
  metadata: unknown,
  data: Uint8Array,
): void {
  expect(got?.metadata).toEqual(metadata);
  expect(got && Buffer.from(got.data).equals(Buffer.from(data))).toBe(true);
}

export function describeConformance(factory: BackendFactory): void {
  describe(`${factory.name} raft stores: conformance`, () => {
    let place: StorePlace;
    const opened: RaftStores[] = [];
    const open = async (o?: StoreOptions): Promise<RaftStores> => {
      const s = await place.open(o);
      opened.push(s);
      return s;
    };
    const restart = async (s: RaftStores, o?: StoreOptions): Promise<RaftStores> => {
      await s.close();
      return open(o);
    };

    beforeEach(async () => {
      place = await factory.place();
    });
    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close().catch(() => {});
      await place.dispose();
    });

    it("starts empty", async () => {
      const { log, hardState, snapshots } = await open();
      expect(log.firstIndex()).toBe(1);
      expect(log.lastIndex()).toBe(0);
      expect(log.term(0)).toBe(0);
      expect(log.entries(1, 1, 100)).toEqual([]);
      expectCode(() => log.term(1), "unavailable");
      expectCode(() => log.entries(1, 2, 100), "unavailable");
      expectCode(() => log.entries(0, 1, 100), "compacted");
      expect(hardState.load()).toEqual(EMPTY_HARD_STATE);
      expect(snapshots.list()).toEqual([]);
      expect(snapshots.latest()).toBeUndefined();
      expect(await snapshots.loadLatest()).toBeUndefined();
    });

    it("keeps appended entries and hard state across a restart", async () => {
      let s = await open();
      // Two appends in flight at once: the second builds on the first before it is durable.
      const a = s.log.append(entriesFor(1, 30, 1));
      const b = s.log.append(entriesFor(31, 50, 2));
      expect(s.log.lastIndex()).toBe(50);
      await Promise.all([a, b, s.hardState.save({ term: 2, vote: 3, commit: 40 })]);
      s = await restart(s);
      expectLog(s.log, 1, [...repeat(1, 30), ...repeat(2, 20)]);
      expect(s.hardState.load()).toEqual({ term: 2, vote: 3, commit: 40 });
    });

    it("replaces the suffix on an overlapping append and on truncate-then-append", async () => {
      let s = await open();
      await s.log.append(entriesFor(1, 20, 1));
      await s.log.append(entriesFor(15, 25, 2));
      expectLog(s.log, 1, [...repeat(1, 14), ...repeat(2, 11)]);
      await s.log.truncateSuffix(10);
      expect(s.log.lastIndex()).toBe(9);
      await s.log.append(entriesFor(10, 12, 3));
      await s.log.truncateSuffix(100); // past the end: nothing to do
      s = await restart(s);
      expectLog(s.log, 1, [...repeat(1, 9), ...repeat(3, 3)]);
      await s.log.append(entriesFor(13, 14, 3));
      expectLog(s.log, 1, [...repeat(1, 9), ...repeat(3, 5)]);
      await expectRejects(s.log.append(entriesFor(20, 21, 3)), "invalid-argument");
      await expectRejects(
        s.log.append([...entriesFor(15, 15, 3), ...entriesFor(17, 17, 3)]),
        "invalid-argument",
      );
      expect(s.log.lastIndex()).toBe(14);
    });

    it("truncates and compacts across many segments (file: 2 KiB segments)", async () => {
      const o = { segmentBytes: 2048 };
      let s = await open(o);
      for (let i = 1; i <= 500; i += 50) await s.log.append(entriesFor(i, i + 49, 1));
      await s.log.truncateSuffix(60);
      await s.log.append(entriesFor(60, 70, 2));
      s = await restart(s, o);
      expectLog(s.log, 1, [...repeat(1, 59), ...repeat(2, 11)]);
      await s.log.append(entriesFor(71, 400, 3));
      await s.log.compact(250);
      s = await restart(s, o);
      expectLog(s.log, 251, repeat(3, 150));
      expect(s.log.term(250)).toBe(3);
      await s.log.append(entriesFor(120, 130, 4)); // below the compaction point: skipped
      await s.log.append(entriesFor(300, 310, 4));
      s = await restart(s, o);
      expectLog(s.log, 251, [...repeat(3, 49), ...repeat(4, 11)]);
    });

    it("compacts a prefix: term of first - 1 answers, below it is compacted", async () => {
      let s = await open();
      await s.log.append([...entriesFor(1, 10, 1), ...entriesFor(11, 30, 2)]);
      await s.log.compact(10);
      const check = (log: LogStore): void => {
        expect(log.firstIndex()).toBe(11);
        expect(log.lastIndex()).toBe(30);
        expect(log.term(10)).toBe(1);
        expect(log.term(11)).toBe(2);
        expectCode(() => log.term(9), "compacted");
        expectCode(() => log.entries(10, 12, 1000), "compacted");
        expectCode(() => log.entries(11, 32, 1000), "unavailable");
        expect(log.entries(11, 31, Number.MAX_SAFE_INTEGER)).toHaveLength(20);
      };
      check(s.log);
      await s.log.compact(5); // already compacted: nothing to do
      check(s.log);
      await expectRejects(s.log.compact(31), "invalid-argument");
      await expectRejects(s.log.truncateSuffix(10), "invalid-argument");
      s = await restart(s);
      check(s.log);
      // Compacting everything keeps the last entry's term.
      await s.log.compact(30);
      s = await restart(s);
      expect(s.log.firstIndex()).toBe(31);
      expect(s.log.lastIndex()).toBe(30);
      expect(s.log.term(30)).toBe(2);
      await s.log.append(entriesFor(31, 32, 3));
      s = await restart(s);
      expectLog(s.log, 31, [3, 3]);
    });

    it("resets to a snapshot past the log, and skips appends the snapshot covers", async () => {
      let s = await open();
      await s.log.append(entriesFor(1, 10, 1));
      await s.log.reset(100, 7);
      const check = (log: LogStore): void => {
        expect(log.firstIndex()).toBe(101);
        expect(log.lastIndex()).toBe(100);
        expect(log.term(100)).toBe(7);
        expectCode(() => log.term(99), "compacted");
        expectCode(() => log.term(101), "unavailable");
      };
      check(s.log);
      s = await restart(s);
      check(s.log);
      await expectRejects(s.log.append(entriesFor(102, 103, 7)), "invalid-argument");
      await s.log.append(entriesFor(90, 95, 6)); // all covered by the snapshot
      check(s.log);
      await s.log.append(entriesFor(98, 103, 7)); // 98..100 covered, 101.. appended
      s = await restart(s);
      expectLog(s.log, 101, [7, 7, 7]);
    });

    it("names the index asked for and the range available in errors", async () => {
      const s = await open();
      await s.log.append(entriesFor(1, 30, 1));
      await s.log.compact(10);
      expect(() => s.log.entries(5, 8, 100)).toThrow(/5.*11\.\.30/);
      expect(() => s.log.term(40)).toThrow(/40.*30/);
      await expect(s.log.append(entriesFor(40, 41, 1))).rejects.toThrow(/40.*30/);
    });

    it("bounds ranges by bytes (at least one entry), also when reading from the backend", async () => {
      let s = await open({ cacheBytes: 0 });
      const ents = entriesFor(1, 200, 1);
      await s.log.append(ents);
      for (let round = 0; round < 2; round++) {
        for (const maxBytes of [0, 50, 300, 1000, 5000, Number.MAX_SAFE_INTEGER]) {
          for (const [lo, hi] of [
            [1, 201],
            [17, 90],
            [200, 201],
          ] as const) {
            let size = 0;
            const want: Entry[] = [];
            for (const e of ents.slice(lo - 1, hi - 1)) {
              size += entrySize(e);
              if (size > maxBytes && want.length > 0) break;
              want.push(e);
            }
            expect(s.log.entries(lo, hi, maxBytes)).toEqual(want);
          }
        }
        s = await restart(s, { cacheBytes: 0 });
      }
    });

    it("makes every one of many concurrent appends durable (group commit)", async () => {
      let s = await open();
      const writes: Promise<void>[] = [];
      for (let i = 1; i <= 300; i++) writes.push(s.log.append(entriesFor(i, i, 1 + (i >> 7))));
      await Promise.all(writes);
      s = await restart(s);
      expect(s.log.lastIndex()).toBe(300);
      expect(s.log.term(300)).toBe(3);
      for (const e of s.log.entries(1, 301, Number.MAX_SAFE_INTEGER)) {
        expect(entryProblem(e)).toBeUndefined();
      }
    });

    it("saves hard state: the newest save wins, load() sees it at once", async () => {
      let s = await open();
      const saves = [1, 2, 3].map((t) => s.hardState.save({ term: t, vote: t, commit: t * 10 }));
      expect(s.hardState.load()).toEqual({ term: 3, vote: 3, commit: 30 });
      await Promise.all(saves);
      s = await restart(s);
      expect(s.hardState.load()).toEqual({ term: 3, vote: 3, commit: 30 });
      await s.hardState.save({ term: 9, vote: 0, commit: 31 });
      s = await restart(s);
      expect(s.hardState.load()).toEqual({ term: 9, vote: 0, commit: 31 });
    });

    it("round-trips a snapshot: save, list, load, restart, stream in chunks to another store", async () => {
      let s = await open();
      const data = bytes(100_000, 1);
      const meta = { index: 10, term: 2, confState: CONF };
      const info = await s.snapshots.save(meta, data);
      expect(info.metadata).toEqual(meta);
      expect(info.dataBytes).toBe(data.length);
      expect(s.snapshots.list().map((i) => i.metadata.index)).toEqual([10]);
      expectSnapshot(await s.snapshots.load(10), meta, data);
      s = await restart(s);
      expect(s.snapshots.latest()?.metadata).toEqual(meta);
      expectSnapshot(await s.snapshots.loadLatest(), meta, data);
      await expect(s.snapshots.load(11)).rejects.toSatisfy((e: unknown) =>
        isStorageError(e, "snapshot-not-found"),
      );

      const other = await factory.place();
      try {
        const receiver = await other.open();
        const w = receiver.snapshots.writer();
        let chunks = 0;
        let total = 0;
        for await (const chunk of s.snapshots.chunks(10, 4096)) {
          expect(chunk.length).toBeLessThanOrEqual(4096);
          total += chunk.length;
          chunks++;
          await w.write(chunk);
        }
        expect(total).toBe(info.encodedBytes);
        expect(chunks).toBe(Math.ceil(info.encodedBytes / 4096));
        const got = await w.finish();
        expect(got.metadata).toEqual(meta);
        expectSnapshot(await receiver.snapshots.load(10), meta, data);
        await receiver.close();
        const again = await other.open();
        expectSnapshot(await again.snapshots.loadLatest(), meta, data);
        await again.close();
      } finally {
        await other.dispose();
      }
    });

    it("rejects a streamed snapshot whose data does not match its checksum, keeping nothing", async () => {
      const s = await open();
      const data = bytes(20_000, 2);
      await s.snapshots.save({ index: 5, term: 1, confState: CONF }, data);
      const other = await factory.place();
      try {
        const receiver = await other.open();
        const w = receiver.snapshots.writer();
        let n = 0;
        for await (const chunk of s.snapshots.chunks(5, 1000)) {
          const copy = chunk.slice();
          if (n++ === 7) copy[500] = (copy[500] as number) ^ 0x10; // in the data, past the header
          await w.write(copy);
        }
        await expect(w.finish()).rejects.toSatisfy((e: unknown) =>
          isStorageError(e, "snapshot-checksum"),
        );
        expect(receiver.snapshots.list()).toEqual([]);
        // A stream cut short is rejected too.
        const w2 = receiver.snapshots.writer();
        for await (const chunk of s.snapshots.chunks(5, 1000)) {
          await w2.write(chunk);
          break;
        }
        await expect(w2.finish()).rejects.toSatisfy((e: unknown) => isStorageError(e, "corrupt"));
        await receiver.close();
        const reopened = await other.open();
        expect(reopened.snapshots.list()).toEqual([]);
        await reopened.close();
      } finally {
        await other.dispose();
      }
    });

    it("keeps the configured number of old snapshots", async () => {
      let s = await open({ keepOld: 1 });
      for (const index of [1, 2, 3, 4]) {
        await s.snapshots.save({ index, term: 1, confState: CONF }, bytes(100, index));
      }
      expect(s.snapshots.list().map((i) => i.metadata.index)).toEqual([4, 3]);
      s = await restart(s, { keepOld: 1 });
      expect(s.snapshots.list().map((i) => i.metadata.index)).toEqual([4, 3]);
      expect((await s.snapshots.load(3)).data).toEqual(bytes(100, 3));
      await expect(s.snapshots.load(2)).rejects.toSatisfy((e: unknown) =>
        isStorageError(e, "snapshot-not-found"),
      );
      // Saving a snapshot again at the same index replaces it.
      await s.snapshots.save({ index: 4, term: 2, confState: CONF }, bytes(10, 9));
      expect(s.snapshots.list().map((i) => [i.metadata.index, i.metadata.term])).toEqual([
        [4, 2],
        [3, 1],
      ]);
    });

    it("presents the stores to the core as LogStorage (RaftStorage)", async () => {
      let s = await open();
      let rs = await RaftStorage.open(s);
      await rs.bootstrap(CONF);
      expect(rs.initialState()).toEqual({ hardState: EMPTY_HARD_STATE, confState: CONF });
      await rs.persist({
        entries: entriesFor(1, 20, 1),
        hardState: { term: 1, vote: 1, commit: 20 },
      });
      const newConf = { ...CONF, voters: [1, 2, 3, 5] };
      const meta = await rs.createSnapshot(15, newConf, bytes(64, 3), 5);
      expect(meta).toEqual({ index: 15, term: 1, confState: newConf });
      expect(rs.firstIndex()).toBe(11); // five entries kept below the snapshot
      expect(rs.snapshot().metadata).toEqual(meta);
      s = await restart(s);
      rs = await RaftStorage.open(s);
      expect(rs.initialState()).toEqual({
        hardState: { term: 1, vote: 1, commit: 20 },
        confState: newConf,
      });
      expect(rs.firstIndex()).toBe(11);
      expect(rs.lastIndex()).toBe(20);
      // A snapshot from the leader far ahead: the log restarts after it.
      await rs.persist({
        snapshot: { metadata: { index: 50, term: 4, confState: CONF }, data: bytes(10, 4) },
        entries: entriesFor(51, 52, 4),
        hardState: { term: 4, vote: 2, commit: 52 },
      });
      expect(rs.term(50)).toBe(4);
      expect(rs.firstIndex()).toBe(51);
      expect(rs.lastIndex()).toBe(52);
      // A snapshot stored but the log not yet reset (a crash between the two): open() finishes.
      await s.snapshots.save({ index: 80, term: 5, confState: CONF }, bytes(10, 5));
      s = await restart(s);
      rs = await RaftStorage.open(s);
      expect(rs.firstIndex()).toBe(81);
      expect(rs.term(80)).toBe(5);
      expect(rs.initialState().hardState).toEqual({ term: 4, vote: 2, commit: 52 });
    });

    for (const seed of RANDOM_SEEDS) {
      const cacheBytes = seed % 2 === 0 ? 2000 : undefined;
      it(`matches the reference model on random commands (seed ${seed}, cache ${cacheBytes ?? "default"})`, async () => {
        const run = await runRandomCommands(
          seededRng(seed),
          1000,
          async () => (await open({ cacheBytes })).log,
          async (log) => {
            const s = opened.find((o) => o.log === log);
            await s?.close();
          },
        );
        expect(
          run.mismatch,
          `seed ${seed}:\n${run.transcript.slice(-15).join("\n")}`,
        ).toBeUndefined();
        expect(run.transcript.length).toBeGreaterThan(900);
      });
    }
  });
}
