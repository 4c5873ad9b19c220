import { describe, expect, it } from "vitest";
import { AsyncQueue } from "./async-queue.js";

async function drain<T>(q: AsyncQueue<T>): Promise<{ items: T[]; error?: unknown }> {
  const items: T[] = [];
  try {
    for await (const x of q) items.push(x);
    return { items };
  } catch (error) {
    return { items, error };
  }
}

describe("AsyncQueue", () => {
  it("hands items over in order, to a waiting consumer or a later one, then ends", async () => {
    const q = new AsyncQueue<number>();
    let taken = 0;
    q.onTaken = () => taken++;
    q.push(1);
    q.push(2);
    expect(q.size).toBe(2);
    const got = drain(q);
    await Promise.resolve();
    q.push(3); // the consumer is waiting by now, or takes it from the queue
    q.end();
    q.push(4); // after the end: dropped
    expect(await got).toEqual({ items: [1, 2, 3] });
    expect(taken).toBe(3);
    expect(q.size).toBe(0);
  });

  it("throws a failure after the items pushed before it, to a waiting consumer too", async () => {
    const q = new AsyncQueue<string>();
    q.push("a");
    q.fail(new Error("broken"));
    const r = await drain(q);
    expect(r.items).toEqual(["a"]);
    expect(String(r.error)).toMatch(/broken/);

    const waiting = new AsyncQueue<string>();
    const w = drain(waiting);
    await Promise.resolve();
    waiting.fail(new Error("later"));
    expect(String((await w).error)).toMatch(/later/);
  });

  it("keeps a long stream's memory bounded by what is queued", async () => {
    const q = new AsyncQueue<number>();
    const it = q[Symbol.asyncIterator]();
    let sum = 0;
    for (let i = 0; i < 5000; i++) {
      q.push(i);
      q.push(i);
      sum += ((await it.next()).value as number) + ((await it.next()).value as number);
    }
    expect(sum).toBe(2 * ((4999 * 5000) / 2));
    expect(q.size).toBe(0);
  });
});
