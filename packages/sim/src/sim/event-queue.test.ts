import { describe, expect, it } from "vitest";
import { EventQueue } from "./event-queue.js";
import { SimRng } from "./rng.js";

describe("simulated time", () => {
  it("runs events in time order, equal times in scheduling order, and never goes back", () => {
    const q = new EventQueue();
    const order: string[] = [];
    q.at(5, () => order.push("b"));
    q.at(1, () => {
      order.push("a");
      q.after(4, () => order.push("c")); // also at 5, scheduled after b
      q.at(0, () => order.push("d")); // the past means now
    });
    while (q.runNext()) {
      // run all
    }
    expect(order).toEqual(["a", "d", "b", "c"]);
    expect(q.now).toBe(5);
  });

  it("a seed always draws the same numbers; forks are independent streams", () => {
    const draw = (r: SimRng) => Array.from({ length: 5 }, () => r.nextInt(1000));
    expect(draw(new SimRng(42))).toEqual(draw(new SimRng(42)));
    expect(draw(new SimRng(42))).not.toEqual(draw(new SimRng(43)));
    expect(draw(new SimRng(42).fork(1))).not.toEqual(draw(new SimRng(42).fork(2)));
  });
});
