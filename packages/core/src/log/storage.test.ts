import { describe, expect, it } from "vitest";
import { RaftError, type RaftErrorCode } from "../errors.js";
import { EMPTY_CONF_STATE, type Entry, type Snapshot } from "../types.js";
import { limitSize, MemoryStorage } from "./storage.js";

const entry = (index: number, term: number, size = 0): Entry => ({
  index,
  term,
  type: 0,
  data: new Uint8Array(size),
});
const ids = (ents: Entry[]) => ents.map((e) => [e.index, e.term]);

/** A storage compacted at (3, 3) holding entries 4, 5, 6 of terms 4, 5, 6 (as in etcd's tests). */
function storage(): MemoryStorage {
  const s = new MemoryStorage();
  s.applySnapshot(snap(3, 3));
  s.append([entry(4, 4), entry(5, 5), entry(6, 6)]);
  return s;
}

function snap(index: number, term: number): Snapshot {
  return { metadata: { index, term, confState: EMPTY_CONF_STATE }, data: new Uint8Array(0) };
}

function errorCode(f: () => unknown): RaftErrorCode {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RaftError);
    return (e as RaftError).code;
  }
  throw new Error("expected a RaftError");
}

describe("MemoryStorage bounds", () => {
  it("a new storage is empty with a zero term at index 0", () => {
    const s = new MemoryStorage();
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.entries(1, 1, 100)).toEqual([]);
  });

  it("term works from firstIndex - 1 (the snapshot's entry) to lastIndex", () => {
    const s = storage();
    expect(s.firstIndex()).toBe(4);
    expect(s.lastIndex()).toBe(6);
    expect([3, 4, 5, 6].map((i) => s.term(i))).toEqual([3, 4, 5, 6]);
  });

  it("term below the snapshot is compacted; past the end is unavailable", () => {
    const s = storage();
    expect(errorCode(() => s.term(2))).toBe("compacted");
    expect(errorCode(() => s.term(7))).toBe("unavailable");
  });

  it("entries at or below the snapshot index are compacted", () => {
    const s = storage();
    expect(errorCode(() => s.entries(3, 5, Infinity))).toBe("compacted");
    expect(errorCode(() => s.entries(2, 5, Infinity))).toBe("compacted");
  });

  it("entries past lastIndex + 1 are unavailable", () => {
    expect(errorCode(() => storage().entries(4, 8, Infinity))).toBe("unavailable");
  });

  it("entries returns the half-open range [lo, hi)", () => {
    const s = storage();
    expect(ids(s.entries(4, 7, Infinity))).toEqual([
      [4, 4],
      [5, 5],
      [6, 6],
    ]);
    expect(ids(s.entries(5, 6, Infinity))).toEqual([[5, 5]]);
    expect(s.entries(5, 5, Infinity)).toEqual([]);
  });
});

describe("MemoryStorage byte limits", () => {
  // Each empty entry weighs 24 bytes (the fixed overhead of entrySize).
  it("stops once maxBytes would be exceeded", () => {
    const s = storage();
    expect(s.entries(4, 7, 48).length).toBe(2);
    expect(s.entries(4, 7, 71).length).toBe(2);
    expect(s.entries(4, 7, 72).length).toBe(3);
  });

  it("always returns at least one entry", () => {
    expect(storage().entries(4, 7, 0).length).toBe(1);
  });

  it("limitSize counts payload plus overhead", () => {
    const ents = [entry(1, 1, 10), entry(2, 1, 10), entry(3, 1, 10)];
    expect(limitSize(ents, 68).length).toBe(2);
    expect(limitSize(ents, 67).length).toBe(1);
    expect(limitSize([], 0)).toEqual([]);
  });
});

describe("MemoryStorage.append", () => {
  it("appends after the last entry", () => {
    const s = storage();
    s.append([entry(7, 6), entry(8, 7)]);
    expect(s.lastIndex()).toBe(8);
    expect(s.term(8)).toBe(7);
  });

  it("overwrites the suffix from the first new index on", () => {
    const s = storage();
    s.append([entry(5, 9)]);
    expect(ids(s.entries(4, 6, Infinity))).toEqual([
      [4, 4],
      [5, 9],
    ]);
    expect(s.lastIndex()).toBe(5);
  });

  it("skips the part that is already compacted", () => {
    const s = storage();
    s.append([entry(2, 2), entry(3, 3), entry(4, 4), entry(5, 8)]);
    expect(s.firstIndex()).toBe(4);
    expect(ids(s.entries(4, 6, Infinity))).toEqual([
      [4, 4],
      [5, 8],
    ]);
    // Entirely compacted: nothing changes.
    s.append([entry(1, 1), entry(2, 2)]);
    expect(s.lastIndex()).toBe(5);
  });

  it("refuses to leave a gap after the last index", () => {
    const s = storage();
    expect(errorCode(() => s.append([entry(8, 6)]))).toBe("unavailable");
    expect(s.lastIndex()).toBe(6);
  });
});

describe("MemoryStorage.compact", () => {
  it("drops entries before the index, keeping its term as the dummy", () => {
    const s = storage();
    s.compact(5);
    expect(s.firstIndex()).toBe(6);
    expect(s.term(5)).toBe(5);
    expect(errorCode(() => s.term(4))).toBe("compacted");
    expect(errorCode(() => s.entries(5, 6, Infinity))).toBe("compacted");
    expect(ids(s.entries(6, 7, Infinity))).toEqual([[6, 6]]);
  });

  it("compacting at or below the current offset is a no-op", () => {
    const s = storage();
    s.compact(3);
    s.compact(1);
    expect(s.firstIndex()).toBe(4);
  });

  it("compacting past the last index is unavailable", () => {
    expect(errorCode(() => storage().compact(7))).toBe("unavailable");
  });
});

describe("MemoryStorage snapshots", () => {
  it("createSnapshot records index, term of that entry, membership and data", () => {
    const s = storage();
    const cs = { ...EMPTY_CONF_STATE, voters: [1, 2] };
    const made = s.createSnapshot(5, cs, Uint8Array.from([7]));
    expect(made.metadata).toEqual({ index: 5, term: 5, confState: cs });
    expect(s.snapshot()).toBe(made);
    expect(s.initialState().confState).toEqual(cs);
    // Creating a snapshot does not compact the log.
    expect(s.firstIndex()).toBe(4);
  });

  it("createSnapshot at or below the current snapshot is out of date", () => {
    const s = storage();
    expect(errorCode(() => s.createSnapshot(3, EMPTY_CONF_STATE, new Uint8Array(0)))).toBe(
      "snapshot-out-of-date",
    );
  });

  it("createSnapshot past the last index is unavailable", () => {
    const s = storage();
    expect(errorCode(() => s.createSnapshot(7, EMPTY_CONF_STATE, new Uint8Array(0)))).toBe(
      "unavailable",
    );
  });

  it("applySnapshot replaces the whole log", () => {
    const s = storage();
    s.applySnapshot(snap(10, 8));
    expect(s.firstIndex()).toBe(11);
    expect(s.lastIndex()).toBe(10);
    expect(s.term(10)).toBe(8);
    expect(s.snapshot().metadata.index).toBe(10);
  });

  it("applySnapshot older than the stored snapshot is out of date", () => {
    const s = storage();
    expect(errorCode(() => s.applySnapshot(snap(2, 2)))).toBe("snapshot-out-of-date");
    expect(s.lastIndex()).toBe(6);
  });

  it("snapshot() can be made temporarily unavailable", () => {
    const s = storage();
    s.snapshotUnavailable = true;
    expect(errorCode(() => s.snapshot())).toBe("snapshot-temporarily-unavailable");
  });
});

describe("MemoryStorage state", () => {
  it("withMembers sets the bootstrap membership; hard state round-trips", () => {
    const s = MemoryStorage.withMembers([1, 2, 3], [4]);
    expect(s.initialState().confState).toEqual({
      ...EMPTY_CONF_STATE,
      voters: [1, 2, 3],
      learners: [4],
    });
    const hs = { term: 3, vote: 2, commit: 1 };
    s.setHardState(hs);
    expect(s.initialState().hardState).toEqual(hs);
  });
});
