import { NotLeaderError, TimeoutError, UnavailableError } from "@d-engine/client";
import type { ApplyResult } from "@d-engine/storage";
import { describe, expect, it } from "vitest";
import { WriteWaiters } from "./write-waiters.js";

const answer = (index: number): ApplyResult => ({
  index,
  response: { type: "noop", revision: 1 },
  events: [],
  duplicate: false,
});
const leader = () => ({ id: 2, address: "127.0.0.1:7002" });
const far = Date.now() + 60_000;

describe("WriteWaiters", () => {
  it("resolves with the answer when the entry of the same term applies", async () => {
    const w = new WriteWaiters();
    const p = w.add(5, 3, far);
    w.settle(5, 3, answer(5), leader);
    await expect(p).resolves.toEqual(answer(5));
    expect(w.size).toBe(0);
  });

  it("another term's entry at the index is a definite failure, naming the leader", async () => {
    const w = new WriteWaiters();
    const p = w.add(5, 3, far);
    w.settle(5, 4, answer(5), leader);
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(NotLeaderError);
    expect(e).toMatchObject({
      outcomeUnknown: false,
      leaderId: 2,
      leaderAddress: "127.0.0.1:7002",
    });
  });

  it("leadership loss and stop leave the outcome unknown", async () => {
    const w = new WriteWaiters();
    const p = w.add(7, 1, far);
    w.failAll("lost");
    const e = await p.catch((x: unknown) => x);
    expect(e).toBeInstanceOf(UnavailableError);
    expect((e as UnavailableError).outcomeUnknown).toBe(true);
  });

  it("a passed deadline or a cancelled call times out with the outcome unknown", async () => {
    const w = new WriteWaiters();
    const late = w.add(1, 1, Date.now() - 1);
    const ctl = new AbortController();
    const cancelled = w.add(2, 1, far, ctl.signal);
    w.sweep(Date.now());
    ctl.abort();
    for (const p of [late, cancelled]) {
      const e = await p.catch((x: unknown) => x);
      expect(e).toBeInstanceOf(TimeoutError);
      expect((e as TimeoutError).outcomeUnknown).toBe(true);
    }
    expect(w.size).toBe(0);
    // A settle after the waiter left does nothing.
    w.settle(2, 1, answer(2), leader);
  });
});
