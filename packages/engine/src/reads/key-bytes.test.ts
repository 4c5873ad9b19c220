import { toBytes } from "@d-engine/client";
import { describe, expect, it } from "vitest";
import { keyBytes } from "./key-bytes.js";

describe("keyBytes", () => {
  it("gives exactly toBytes's UTF-8 for ASCII, non-ASCII, lone surrogates and long strings", () => {
    const cases = [
      "",
      "r0000123",
      "\u0000\u007f",
      "é",
      "key-\u00ff",
      "日本",
      "a\ud800b", // a lone surrogate: U+FFFD in UTF-8
      "😀",
      "x".repeat(64),
      `${"y".repeat(64)}z`,
      `${"é".repeat(70)}`,
    ];
    for (const s of cases) expect(keyBytes(s), JSON.stringify(s)).toEqual(toBytes(s));
  });

  it("matches toBytes on seeded random strings", () => {
    const seed = 424242;
    let x = seed;
    const next = (n: number) => {
      x = (Math.imul(x, 1103515245) + 12345) >>> 0;
      return x % n;
    };
    for (let i = 0; i < 2000; i++) {
      const len = next(80);
      let s = "";
      // Mostly ASCII, sometimes a character past it, so both paths are taken.
      for (let j = 0; j < len; j++)
        s += String.fromCharCode(next(10) === 0 ? next(0x10000) : next(0x80));
      expect(keyBytes(s), `seed ${seed} case ${i}`).toEqual(toBytes(s));
    }
  });

  it("passes bytes through unchanged", () => {
    const b = Uint8Array.of(1, 2, 3);
    expect(keyBytes(b)).toBe(b);
  });
});
