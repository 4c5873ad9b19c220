// The pool alone: what comes back, what does not, and its bound.
import { describe, expect, it } from "vitest";
import { AbortControllerPool } from "./abort-pool.js";

describe("AbortControllerPool", () => {
  it("lends a returned controller again when nothing listens to it", () => {
    const pool = new AbortControllerPool(4);
    const a = pool.take();
    const onAbort = () => {};
    a.signal.addEventListener("abort", onAbort);
    a.signal.removeEventListener("abort", onAbort);
    pool.give(a);
    expect(pool.idle).toBe(1);
    expect(pool.take()).toBe(a);
    expect(pool.idle).toBe(0);
  });

  it("keeps out a controller with a listener left on its signal", () => {
    const pool = new AbortControllerPool(4);
    const a = pool.take();
    let heard = 0;
    a.signal.addEventListener("abort", () => heard++);
    pool.give(a);
    expect(pool.idle).toBe(0);
    expect(pool.take()).not.toBe(a);
    expect(heard).toBe(0);
  });

  it("keeps out an aborted controller", () => {
    const pool = new AbortControllerPool(4);
    const a = pool.take();
    a.abort(new Error("cancelled"));
    pool.give(a);
    expect(pool.idle).toBe(0);
    expect(pool.take().signal.aborted).toBe(false);
  });

  it("holds at most its bound", () => {
    const pool = new AbortControllerPool(2);
    const all = [pool.take(), pool.take(), pool.take()];
    for (const c of all) pool.give(c);
    expect(pool.idle).toBe(2);
  });
});
