import { expect, it } from "vitest";
import { PullQueue } from "./pull-queue.js";

it("hands out values in order, waits for more, then ends with the error once", async () => {
  const q = new PullQueue<number>();
  q.push(1);
  const waiting = (async () => {
    const a = await q.next();
    const b = await q.next();
    return [a, b];
  })();
  q.push(2);
  expect(await waiting).toEqual([
    { done: false, value: 1 },
    { done: false, value: 2 },
  ]);
  const pending = q.next();
  expect(q.end(new Error("boom"))).toBe(true);
  expect(q.end()).toBe(false);
  await expect(pending).rejects.toThrow("boom");
  expect(await q.next()).toEqual({ done: true, value: undefined });
});

it("keeps values queued before the end; discard drops them and the error", async () => {
  const q = new PullQueue<string>();
  q.push("a");
  q.end(new Error("late"));
  expect(await q.next()).toEqual({ done: false, value: "a" });
  await expect(q.next()).rejects.toThrow("late");

  const d = new PullQueue<string>();
  d.push("x");
  d.end(new Error("dropped"));
  d.discard();
  expect(d.length).toBe(0);
  expect(await d.next()).toEqual({ done: true, value: undefined });
});
