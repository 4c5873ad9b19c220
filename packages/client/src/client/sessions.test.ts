import { describe, expect, it } from "vitest";
import { randomClientId, SessionAllocator } from "./sessions.js";

describe("SessionAllocator", () => {
  it("numbers writes and reports the lowest incomplete one", () => {
    const s = new SessionAllocator("c");
    const a = s.begin();
    const b = s.begin();
    const c = s.begin();
    expect([a, b, c]).toEqual([1, 2, 3]);
    expect(s.session(c)).toEqual({ clientId: "c", sequence: 3, firstIncomplete: 1 });
    s.end(a, false);
    expect(s.session(c).firstIncomplete).toBe(2);
    // A retry of `b` keeps its sequence; firstIncomplete never passes it.
    expect(s.session(b)).toEqual({ clientId: "c", sequence: 2, firstIncomplete: 2 });
    s.end(c, false);
    expect(s.session(b).firstIncomplete).toBe(2);
  });

  it("keeps an unknown-outcome write incomplete until released, so a retry can still dedup", () => {
    const s = new SessionAllocator("c");
    const a = s.begin();
    s.end(a, true);
    const b = s.begin();
    expect(s.session(b).firstIncomplete).toBe(1);
    s.release(a);
    expect(s.session(b).firstIncomplete).toBe(2);
  });

  it("pins a bounded number of unknown outcomes", () => {
    const s = new SessionAllocator("c");
    for (let i = 0; i < 300; i++) s.end(s.begin(), true);
    const next = s.begin();
    // The 44 oldest were let go (256 kept).
    expect(s.session(next).firstIncomplete).toBe(45);
  });

  it("makes distinct random client ids", () => {
    expect(randomClientId()).not.toBe(randomClientId());
  });
});
