import { describe, expect, it } from "vitest";
import { EMPTY_CONF_STATE, type Entry, type Snapshot } from "../types.js";
import { Unstable } from "./unstable.js";

const entry = (index: number, term: number): Entry => ({
  index,
  term,
  type: 0,
  data: new Uint8Array(0),
});
const snap = (index: number, term: number): Snapshot => ({
  metadata: { index, term, confState: EMPTY_CONF_STATE },
  data: new Uint8Array(0),
});
const ids = (u: Unstable) => u.entries.map((e) => [e.index, e.term]);

/** An unstable tail starting at `offset` with entries of the given terms. */
function unstable(offset: number, terms: number[], s?: Snapshot): Unstable {
  const u = new Unstable(offset);
  u.snapshot = s;
  u.entries = terms.map((t, i) => entry(offset + i, t));
  return u;
}

describe("Unstable index and term lookups", () => {
  it("with nothing unstable, nothing is decided here", () => {
    const u = unstable(5, []);
    expect(u.maybeFirstIndex()).toBeUndefined();
    expect(u.maybeLastIndex()).toBeUndefined();
    expect(u.maybeTerm(4)).toBeUndefined();
    expect(u.maybeTerm(5)).toBeUndefined();
  });

  it("entries decide the last index but not the first", () => {
    const u = unstable(5, [1, 2]);
    expect(u.maybeFirstIndex()).toBeUndefined();
    expect(u.maybeLastIndex()).toBe(6);
    expect(u.maybeTerm(5)).toBe(1);
    expect(u.maybeTerm(6)).toBe(2);
    expect(u.maybeTerm(7)).toBeUndefined();
    expect(u.maybeTerm(4)).toBeUndefined();
  });

  it("a pending snapshot decides the first index, and the last when there are no entries", () => {
    const u = unstable(5, [], snap(4, 3));
    expect(u.maybeFirstIndex()).toBe(5);
    expect(u.maybeLastIndex()).toBe(4);
    expect(u.maybeTerm(4)).toBe(3);
    expect(u.maybeTerm(3)).toBeUndefined();
    expect(u.maybeTerm(5)).toBeUndefined();
  });

  it("with a snapshot and entries, entries decide the last index", () => {
    const u = unstable(5, [3, 4], snap(4, 3));
    expect(u.maybeFirstIndex()).toBe(5);
    expect(u.maybeLastIndex()).toBe(6);
    expect(u.maybeTerm(6)).toBe(4);
  });
});

describe("Unstable.stableTo", () => {
  it("drops entries up to a persisted (index, term)", () => {
    const u = unstable(5, [1, 1, 2]);
    u.stableTo(6, 1);
    expect(u.offset).toBe(7);
    expect(ids(u)).toEqual([[7, 2]]);
  });

  it("ignores a persisted entry whose term no longer matches (it was replaced)", () => {
    const u = unstable(5, [1, 1, 2]);
    u.stableTo(6, 9);
    expect(u.offset).toBe(5);
    expect(u.entries.length).toBe(3);
  });

  it("ignores indexes outside the unstable entries, including the snapshot's", () => {
    const u = unstable(5, [3], snap(4, 3));
    u.stableTo(4, 3);
    u.stableTo(9, 3);
    expect(u.offset).toBe(5);
    expect(u.entries.length).toBe(1);
  });

  it("stableSnapTo clears the snapshot only for its own index", () => {
    const u = unstable(5, [], snap(4, 3));
    u.stableSnapTo(3);
    expect(u.snapshot).toBeDefined();
    u.stableSnapTo(4);
    expect(u.snapshot).toBeUndefined();
  });
});

describe("Unstable.restore", () => {
  it("replaces everything with the snapshot", () => {
    const u = unstable(5, [1, 2]);
    const s = snap(10, 4);
    u.restore(s);
    expect(u.offset).toBe(11);
    expect(u.entries).toEqual([]);
    expect(u.snapshot).toBe(s);
  });
});

describe("Unstable.truncateAndAppend", () => {
  it("appends directly after the last entry", () => {
    const u = unstable(5, [1]);
    u.truncateAndAppend([entry(6, 1), entry(7, 2)]);
    expect(u.offset).toBe(5);
    expect(ids(u)).toEqual([
      [5, 1],
      [6, 1],
      [7, 2],
    ]);
  });

  it("replaces everything when the new entries start at or before the offset", () => {
    const a = unstable(5, [1, 1]);
    a.truncateAndAppend([entry(5, 2), entry(6, 2)]);
    expect(a.offset).toBe(5);
    expect(ids(a)).toEqual([
      [5, 2],
      [6, 2],
    ]);
    // Starting below the offset also rewrites part of the stable log, so the offset moves back.
    const b = unstable(5, [1, 1]);
    b.truncateAndAppend([entry(4, 2)]);
    expect(b.offset).toBe(4);
    expect(ids(b)).toEqual([[4, 2]]);
  });

  it("truncates in the middle, then appends", () => {
    const u = unstable(5, [1, 1, 1]);
    u.truncateAndAppend([entry(6, 2), entry(7, 2), entry(8, 2)]);
    expect(u.offset).toBe(5);
    expect(ids(u)).toEqual([
      [5, 1],
      [6, 2],
      [7, 2],
      [8, 2],
    ]);
  });

  it("does not alias the caller's array", () => {
    const u = unstable(5, []);
    const ents = [entry(5, 1)];
    u.truncateAndAppend(ents);
    u.truncateAndAppend([entry(6, 1)]);
    expect(ents.length).toBe(1);
  });

  it("an empty append changes nothing", () => {
    const u = unstable(5, [1]);
    u.truncateAndAppend([]);
    expect(ids(u)).toEqual([[5, 1]]);
  });
});

describe("Unstable.slice", () => {
  it("returns [lo, hi) within the unstable entries", () => {
    const u = unstable(5, [1, 2, 3]);
    expect(u.slice(6, 8).map((e) => e.index)).toEqual([6, 7]);
    expect(u.slice(5, 8).length).toBe(3);
    expect(u.slice(6, 6)).toEqual([]);
  });

  it("throws outside the unstable part or for lo > hi", () => {
    const u = unstable(5, [1, 2, 3]);
    expect(() => u.slice(4, 6)).toThrow(/out of bounds/);
    expect(() => u.slice(5, 9)).toThrow(/out of bounds/);
    expect(() => u.slice(7, 6)).toThrow(/out of bounds/);
  });
});
