import { describe, expect, it } from "vitest";
import { persistSteps } from "./persist-order.js";
import { EMPTY_BYTES, type Entry, EntryType } from "./types.js";

function entry(index: number, type = EntryType.Normal): Entry {
  return { index, term: 2, type, data: EMPTY_BYTES };
}

const indexes = (es: readonly Entry[]) => es.map((e) => e.index);

describe("persistSteps", () => {
  it("is one step without a membership change", () => {
    const es = [entry(5), entry(6)];
    const hs = { term: 2, vote: 1, commit: 6 };
    expect(persistSteps(es, hs)).toEqual([{ entries: es, hardState: hs }]);
    expect(persistSteps(es, undefined)).toEqual([{ entries: es }]);
  });

  it("is one step when there is no hard state to write", () => {
    const es = [entry(5, EntryType.ConfChange), entry(6)];
    expect(persistSteps(es, undefined)).toEqual([{ entries: es }]);
  });

  it("makes the commit before each membership change durable before the change", () => {
    // Entries 5..9 with changes at 6 and 8, commit 7 (covering the change at 6).
    const es = [
      entry(5),
      entry(6, EntryType.ConfChange),
      entry(7),
      entry(8, EntryType.ConfChange),
      entry(9),
    ];
    const hs = { term: 2, vote: 1, commit: 7 };
    const steps = persistSteps(es, hs);
    expect(steps.map((s) => indexes(s.entries))).toEqual([[5], [6, 7], [8, 9]]);
    expect(steps.map((s) => s.hardState?.commit)).toEqual([5, 7, 7]);
    // The change at 8 becomes durable only after a commit covering the change at 6 is durable.
    expect(steps[1]?.hardState?.commit).toBeGreaterThanOrEqual(6);
    expect(steps.every((s) => s.hardState?.term === 2 && s.hardState.vote === 1)).toBe(true);
  });

  it("writes the hard state alone first when the first new entry is a change", () => {
    const es = [entry(9, EntryType.ConfChange), entry(10)];
    const hs = { term: 3, vote: 0, commit: 10 };
    const steps = persistSteps(es, hs);
    expect(steps.map((s) => indexes(s.entries))).toEqual([[], [9, 10]]);
    expect(steps.map((s) => s.hardState?.commit)).toEqual([8, 10]);
  });

  it("never lets a step's commit pass the entries durable by then", () => {
    const es = [entry(3), entry(4, EntryType.ConfChange), entry(5, EntryType.ConfChange), entry(6)];
    const hs = { term: 1, vote: 0, commit: 6 };
    let durable = 2;
    for (const s of persistSteps(es, hs)) {
      durable = s.entries.at(-1)?.index ?? durable;
      expect(s.hardState?.commit ?? 0).toBeLessThanOrEqual(durable);
    }
  });
});
