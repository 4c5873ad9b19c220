import { seededRng } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { bruteForceLinearizable, randomSmallHistory } from "./brute-force.js";
import { formatHistory } from "./format.js";
import type { Operation } from "./history.js";
import { checkSingleKey } from "./search.js";
import { cutWindow, windowsBefore } from "./window.js";

const put = (id: number, value: string, invoke: number, complete: number): Operation => ({
  id,
  clientId: id,
  key: "k",
  input: { op: "put", value },
  output: { kind: "ok" },
  invoke,
  complete,
});

describe("cutWindow", () => {
  it("drops what ended before and began after, and opens what straddles an edge", () => {
    const before = put(1, "a", 0, 5);
    const straddlesFrom = put(2, "b", 8, 12);
    const inside = put(3, "c", 11, 14);
    const straddlesTo = put(4, "d", 15, 25);
    const after = put(5, "e", 21, 22);
    const w = cutWindow([before, straddlesFrom, inside, straddlesTo, after], 10, 20);
    expect(w.ops.map((o) => o.id)).toEqual([2, 3, 4]);
    expect(w.ops[1]).toBe(inside);
    for (const open of [w.ops[0]!, w.ops[2]!]) {
      expect(open.output).toEqual({ kind: "unknown" });
      expect(open.complete).toBe(Number.POSITIVE_INFINITY);
      expect(w.originals.get(open)?.output).toEqual({ kind: "ok" });
    }
  });

  it("offers growing windows that end where the search stuck", () => {
    const ops = Array.from({ length: 300 }, (_, i) => put(i, `v${i}`, 2 * i, 2 * i + 1));
    const windows = windowsBefore(ops, 399);
    expect(windows.map((w) => w.ops.length)).toEqual([32, 128, 200]);
    expect(windows.every((w) => w.to === 399)).toBe(true);
  });
});

describe("searching from any state, and windows", () => {
  it("seeds 1..5000: a window found not linearizable means the whole history is not", () => {
    let refuted = 0;
    for (let seed = 1; seed <= 5000; seed++) {
      const rng = seededRng(seed);
      const ops = randomSmallHistory(rng, 7);
      const from = rng.nextInt(10);
      const w = cutWindow(ops, from, from + rng.nextInt(12));
      if (checkSingleKey(w.ops, 1_000_000, "any") !== "not-linearizable") continue;
      refuted++;
      if (bruteForceLinearizable(ops)) {
        throw new Error(`seed ${seed}: window refuted, history fine\n${formatHistory(ops)}`);
      }
    }
    expect(refuted).toBeGreaterThan(80);
  });

  it("seeds 1..2000: refuted from any state means refuted from every state", () => {
    let refuted = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const ops = randomSmallHistory(seededRng(seed), 7);
      if (checkSingleKey(ops, 1_000_000, "any") !== "not-linearizable") continue;
      refuted++;
      for (const start of [null, "a", "b", "other"]) {
        if (bruteForceLinearizable(ops, start)) {
          throw new Error(`seed ${seed}: fine from ${start}\n${formatHistory(ops)}`);
        }
      }
    }
    expect(refuted).toBeGreaterThan(200);
  });
});
