import { describe, expect, it } from "vitest";
import { Inflights } from "./inflights.js";

/** Adds messages whose last indexes are `from`..`to`, each weighing `bytes`. */
function fill(w: Inflights, from: number, to: number, bytes = 0): void {
  for (let i = from; i <= to; i++) w.add(i, bytes);
}

describe("Inflights", () => {
  it("rejects a non-positive count limit", () => {
    expect(() => new Inflights(0, 0)).toThrow(/maxInflightMsgs must be > 0/);
  });

  it("is full once maxCount messages are in flight", () => {
    const w = new Inflights(3, 0);
    fill(w, 1, 2);
    expect(w.full()).toBe(false);
    w.add(3, 0);
    expect(w.full()).toBe(true);
    expect(w.length).toBe(3);
  });

  it("refuses to add to a full window", () => {
    const w = new Inflights(1, 0);
    w.add(1, 0);
    expect(() => w.add(2, 0)).toThrow(/full window/);
  });

  it("is full once the byte budget is reached, before the count limit", () => {
    const w = new Inflights(10, 100);
    w.add(1, 60);
    expect(w.full()).toBe(false);
    w.add(2, 40);
    expect(w.totalBytes).toBe(100);
    expect(w.full()).toBe(true);
  });

  it("a single message larger than the byte budget is still accepted, then the window is full", () => {
    const w = new Inflights(10, 100);
    w.add(1, 500);
    expect(w.full()).toBe(true);
  });

  it("maxBytes 0 means no byte limit", () => {
    const w = new Inflights(2, 0);
    w.add(1, 1 << 30);
    expect(w.full()).toBe(false);
  });

  it("freeLE frees every message up to and including the index, oldest first", () => {
    const w = new Inflights(10, 0);
    fill(w, 1, 5, 10);
    w.freeLE(3);
    expect(w.length).toBe(2);
    expect(w.totalBytes).toBe(20);
    // Freeing below what is left is a no-op.
    w.freeLE(3);
    expect(w.length).toBe(2);
    w.freeLE(100);
    expect(w.length).toBe(0);
    expect(w.totalBytes).toBe(0);
  });

  it("freeing bytes makes a byte-full window usable again", () => {
    const w = new Inflights(10, 100);
    w.add(1, 50);
    w.add(2, 50);
    expect(w.full()).toBe(true);
    w.freeLE(1);
    expect(w.full()).toBe(false);
  });

  it("wraps around the ring buffer keeping order and byte totals", () => {
    const w = new Inflights(4, 0);
    fill(w, 1, 4, 1);
    w.freeLE(2); // start moves to slot 2
    w.add(5, 2);
    w.add(6, 2); // these land in slots 0 and 1
    expect(w.full()).toBe(true);
    expect(w.totalBytes).toBe(6);
    w.freeLE(4);
    expect(w.length).toBe(2);
    expect(w.totalBytes).toBe(4);
    w.freeLE(5);
    expect(w.length).toBe(1);
    expect(w.totalBytes).toBe(2);
    // Many laps around the ring stay consistent.
    for (let i = 7; i < 40; i++) {
      w.add(i, 1);
      w.freeLE(i - 1);
      expect(w.length).toBe(1);
    }
  });

  it("reset empties the window", () => {
    const w = new Inflights(2, 10);
    fill(w, 1, 2, 5);
    w.reset();
    expect(w.length).toBe(0);
    expect(w.totalBytes).toBe(0);
    expect(w.full()).toBe(false);
    fill(w, 3, 4, 1);
    expect(w.length).toBe(2);
  });

  it("a clone is independent of the original", () => {
    const w = new Inflights(4, 0);
    fill(w, 1, 3, 1);
    const c = w.clone();
    w.freeLE(3);
    expect(c.length).toBe(3);
    c.add(4, 1);
    expect(w.length).toBe(0);
    expect(c.length).toBe(4);
    expect(c.full()).toBe(true);
    c.freeLE(2);
    expect(c.length).toBe(2);
    expect(c.totalBytes).toBe(2);
  });
});
