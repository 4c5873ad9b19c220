import { seededRng } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { compareBytes } from "../bytes.js";
import { SortedMap } from "./sorted-map.js";

const toHex = (b: Uint8Array) => Buffer.from(b).toString("hex");

describe("SortedMap", () => {
  for (const seed of [1, 99]) {
    it(`matches a sorted reference under random sets, deletes and ranges (seed ${seed})`, () => {
      const rng = seededRng(seed);
      const map = new SortedMap<number>();
      const ref = new Map<string, [Uint8Array, number]>();
      const key = () => Uint8Array.from({ length: 1 + rng.nextInt(4) }, () => rng.nextInt(16));
      const sortedRef = () => [...ref.values()].sort((a, b) => compareBytes(a[0], b[0]));
      // Enough keys for many chunk splits and removals.
      for (let i = 0; i < 8000; i++) {
        const k = key();
        if (rng.nextInt(3) === 0) {
          expect(map.delete(k)).toBe(ref.delete(toHex(k)));
        } else {
          map.set(k, i);
          ref.set(toHex(k), [k, i]);
        }
        if (i % 1000 === 0 || i === 7999) {
          const all = sortedRef();
          expect(map.size).toBe(all.length);
          expect(
            [...map.range(new Uint8Array(0), undefined)].map(([k2, v]) => [toHex(k2), v]),
          ).toEqual(all.map(([k2, v]) => [toHex(k2), v]));
          for (let q = 0; q < 20; q++) {
            const s = key();
            const e = rng.nextInt(4) === 0 ? undefined : key();
            const want = all.filter(
              ([k2]) => compareBytes(k2, s) >= 0 && (e === undefined || compareBytes(k2, e) < 0),
            );
            const fwd = [...map.range(s, e)].map(([k2]) => toHex(k2));
            const rev = [...map.range(s, e, true)].map(([k2]) => toHex(k2));
            expect(fwd).toEqual(want.map(([k2]) => toHex(k2)));
            expect(rev).toEqual(want.map(([k2]) => toHex(k2)).reverse());
            expect(map.countRange(s, e)).toBe(want.length);
            const probe = key();
            expect(map.get(probe)).toBe(ref.get(toHex(probe))?.[1]);
          }
        }
      }
    });
  }
});
