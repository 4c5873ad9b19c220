import { describe, expect, it } from "vitest";
import { ExploredConfigurations, PrefixSet } from "./search-cache.js";

describe("PrefixSet", () => {
  it("keys equal sets equally whatever the order of changes", () => {
    const a = new PrefixSet(10);
    for (const i of [0, 1, 2, 5]) a.add(i);
    const b = new PrefixSet(10);
    for (const i of [5, 2, 9, 1, 0]) b.add(i);
    b.delete(9);
    expect(a.key()).toBe(b.key());
    expect(a.key()).toBe("3+5");
  });

  it("folds members into the prefix when the gap closes, and splits it on removal", () => {
    const s = new PrefixSet(8);
    for (const i of [1, 2, 4]) s.add(i);
    expect(s.key()).toBe("0+1,2,4");
    s.add(0);
    expect(s.key()).toBe("3+4");
    s.add(3);
    expect(s.key()).toBe("5");
    s.delete(1);
    expect(s.key()).toBe("1+2,3,4");
    s.delete(0);
    expect(s.key()).toBe("0+2,3,4");
  });
});

describe("ExploredConfigurations", () => {
  const bits = (...members: number[]) => {
    const words = new Uint32Array(2);
    for (const m of members) words[m >>> 5]! |= 1 << (m & 31);
    return words;
  };

  it("skips a configuration with more unknown operations linearized than an explored one", () => {
    const known = new PrefixSet(4);
    known.add(0);
    const explored = new ExploredConfigurations();
    expect(explored.visit(known, bits(3), "=a")).toBe(true);
    expect(explored.visit(known, bits(3), "=a")).toBe(false);
    expect(explored.visit(known, bits(3, 40), "=a")).toBe(false);
    // Fewer unknown operations used, another state, or other known ones: all new.
    expect(explored.visit(known, bits(), "=a")).toBe(true);
    expect(explored.visit(known, bits(3), "=b")).toBe(true);
    known.add(1);
    expect(explored.visit(known, bits(3), "=a")).toBe(true);
  });
});
