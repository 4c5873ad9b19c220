// The lease fast path's bookkeeping in ReadQueue, against a scripted core: when a lease read may
// be served at once (leaseIndexNow), and what happens to lease reads that wait for an overdue
// tick (served after it if the lease answers, asked through readIndex otherwise, failed on stop,
// expired at their deadline, removed when cancelled).
import type { RawNode } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { ReadQueue } from "./read-queue.js";

/** A core whose lease answer the test sets, recording the readIndex calls it gets. */
function scriptedCore() {
  const core = { lease: -1, asked: [] as { lease: boolean }[] };
  const raw = {
    leaseReadIndex: () => core.lease,
    readIndex: (_ctx: Uint8Array, opts: { lease?: boolean } = {}) => {
      core.asked.push({ lease: opts.lease === true });
    },
  } as unknown as RawNode;
  return { core, queue: new ReadQueue(raw, 1) };
}

/** Never overdue within a test; 0: always overdue (the last tick is at least 0 ms old). */
const FRESH = 1e12;
const OVERDUE = 0;
const FAR = Date.now() + 1e9;

describe("ReadQueue.leaseIndexNow", () => {
  it("answers only after a tick, with the lease index once the state machine applied it", () => {
    const { core, queue } = scriptedCore();
    core.lease = 5;
    // No tick yet: the core's clock is not known to be current.
    expect(queue.leaseIndexNow(FRESH)).toBe(-1);
    queue.sweep(Date.now());
    // Ticked, but the state machine has not applied index 5.
    expect(queue.leaseIndexNow(FRESH)).toBe(-1);
    queue.serve(4);
    expect(queue.leaseIndexNow(FRESH)).toBe(-1);
    queue.serve(5);
    expect(queue.leaseIndexNow(FRESH)).toBe(5);
    // The applied index never goes back, even if a lower one is reported.
    queue.serve(3);
    expect(queue.leaseIndexNow(FRESH)).toBe(5);
  });

  it("refuses when the core refuses, or when its tick is overdue", () => {
    const { core, queue } = scriptedCore();
    queue.sweep(Date.now());
    queue.serve(9);
    core.lease = -1;
    expect(queue.leaseIndexNow(FRESH)).toBe(-1);
    core.lease = 9;
    expect(queue.leaseIndexNow(FRESH)).toBe(9);
    expect(queue.tickOverdue(OVERDUE)).toBe(true);
    expect(queue.leaseIndexNow(OVERDUE)).toBe(-1);
  });
});

describe("lease reads waiting for an overdue tick", () => {
  it("are served after the tick when the lease answers, without asking the core", async () => {
    const { core, queue } = scriptedCore();
    queue.serve(2);
    let ran = 0;
    const p = queue.add(
      true,
      () => {
        ran++;
        return "v";
      },
      FAR,
      undefined,
      true,
    );
    expect(queue.size).toBe(1);
    expect(ran).toBe(0);
    core.lease = 2;
    queue.sweep(Date.now());
    expect(ran).toBe(1);
    await expect(p).resolves.toBe("v");
    expect(core.asked).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it("are asked through readIndex after the tick when the lease does not answer", () => {
    const { core, queue } = scriptedCore();
    queue.serve(2);
    let ran = 0;
    void queue.add(true, () => ran++, FAR, undefined, true);
    core.lease = 7; // the lease answers 7, but only 2 is applied: not servable now
    queue.sweep(Date.now());
    expect(ran).toBe(0);
    expect(core.asked).toEqual([{ lease: true }]);
    expect(queue.size).toBe(1);
  });

  it("fail when the node stops, expire at their deadline, and can be cancelled", async () => {
    const { queue } = scriptedCore();
    const stopped = queue.add(true, () => 1, FAR, undefined, true);
    queue.failAll("stopping");
    await expect(stopped).rejects.toThrow("stopping");

    const now = Date.now();
    const late = queue.add(true, () => 1, now, undefined, true);
    queue.sweep(now);
    await expect(late).rejects.toThrow("could not be confirmed in time");

    const ac = new AbortController();
    const cancelled = queue.add(true, () => 1, FAR, ac.signal, true);
    ac.abort();
    await expect(cancelled).rejects.toThrow("cancelled");
    expect(queue.size).toBe(0);
  });
});
