// The lock recipe against the in-memory fake: FIFO queueing, fencing tokens, no herd, release on
// lease end, and cancellation that leaves no key behind.
import { describe, expect, it } from "vitest";
import { TimeoutError } from "../errors.js";
import { AlreadyQueuedError, SessionEndedError } from "./errors.js";
import { Lock, withLock } from "./lock.js";
import { Session } from "./session.js";
import { FakeCoordination } from "./testing/fake-coordination.js";
import { track, until } from "./testing/until.js";

async function sessions(fake: FakeCoordination, n: number): Promise<Session[]> {
  return Promise.all(Array.from({ length: n }, () => Session.create(fake, { ttlSeconds: 10 })));
}

const hexOf = (s: Session) => s.leaseId.toString(16);

describe("Lock", () => {
  it("acquires a free lock at once: key <name>/<lease hex>, revision = its create revision", async () => {
    const fake = new FakeCoordination();
    const [s] = await sessions(fake, 1);
    const lock = new Lock(s as Session, "jobs/main");
    const h = await lock.acquire();
    expect(h.keyText).toBe(`jobs/main/${hexOf(s as Session)}`);
    const kv = (await fake.range({ key: h.key })).kvs[0];
    expect(kv?.createRevision).toBe(h.revision);
    expect(kv?.lease).toBe(s?.leaseId);
    expect(await lock.stillHeld()).toBe(true);
    expect(lock.held?.revision).toBe(h.revision);
    expect(await lock.release()).toBe(true);
    expect(lock.held).toBeUndefined();
    expect((await fake.range({ prefix: "jobs/main/" })).kvs).toHaveLength(0);
  });

  it("queues waiters in arrival order, each watching only its predecessor, tokens increasing", async () => {
    const fake = new FakeCoordination();
    const [a, b, c] = (await sessions(fake, 3)) as [Session, Session, Session];
    const la = new Lock(a, "L");
    const lb = new Lock(b, "L");
    const lc = new Lock(c, "L");
    const ha = await la.acquire();
    const wb = track(lb.acquire());
    await until("b to watch a's key", () => fake.openWatches.get(hexBytes(`L/${hexOf(a)}`)) === 1);
    const wc = track(lc.acquire());
    await until("c to watch b's key", () => fake.openWatches.get(hexBytes(`L/${hexOf(b)}`)) === 1);
    // No herd: a's key has one watcher (b), nobody watches the prefix.
    expect(fake.openWatches.get(hexBytes(`L/${hexOf(a)}`))).toBe(1);
    expect(
      [...fake.openWatches.keys()].some(
        (k) => k.startsWith("prefix:") && (fake.openWatches.get(k) ?? 0) > 0,
      ),
    ).toBe(false);

    await la.release();
    const hb = await wb.promise;
    expect(wc.settled).toBe(false);
    await lb.release();
    const hc = await wc.promise;
    expect(ha.revision).toBeLessThan(hb.revision);
    expect(hb.revision).toBeLessThan(hc.revision);
    await lc.release();
  });

  it("frees the lock when the holder's lease ends; the old holder's session ends as lost", async () => {
    const fake = new FakeCoordination();
    const [a, b] = (await sessions(fake, 2)) as [Session, Session];
    const la = new Lock(a, "L");
    const ha = await la.acquire();
    const wb = track(new Lock(b, "L").acquire());
    await until("b to wait", () => fake.openWatches.get(hexBytes(`L/${hexOf(a)}`)) === 1);
    expect(wb.settled).toBe(false);
    fake.expire(a.leaseId);
    const hb = await wb.promise;
    expect(hb.revision).toBeGreaterThan(ha.revision);
    const ended = await a.ended;
    expect(ended.lost).toBe(true);
    expect(a.signal.aborted).toBe(true);
    expect(la.held).toBeUndefined();
    // The old holder learns it no longer holds the lock; release says so.
    expect(await la.stillHeld()).toBe(false);
    expect(await la.release()).toBe(false);
  });

  it("a waiter that gives up (signal) removes its key; the one behind it moves up", async () => {
    const fake = new FakeCoordination();
    const [a, b, c] = (await sessions(fake, 3)) as [Session, Session, Session];
    const la = new Lock(a, "L");
    await la.acquire();
    const abortB = new AbortController();
    const wb = track(new Lock(b, "L").acquire({ signal: abortB.signal }));
    await until("b to wait", () => fake.openWatches.get(hexBytes(`L/${hexOf(a)}`)) === 1);
    const wc = track(new Lock(c, "L").acquire());
    await until("c to wait on b", () => fake.openWatches.get(hexBytes(`L/${hexOf(b)}`)) === 1);
    abortB.abort(new Error("gave up"));
    await expect(wb.promise).rejects.toThrow("gave up");
    expect((await fake.range({ key: `L/${hexOf(b)}` })).kvs).toHaveLength(0);
    // c rechecks after b's key went: a still holds, so c now waits on a.
    await until("c to wait on a", () => fake.openWatches.get(hexBytes(`L/${hexOf(a)}`)) === 1);
    expect(wc.settled).toBe(false);
    await la.release();
    await wc.promise;
  });

  it("a waiter whose watch the server cancels reads again and keeps its place", async () => {
    const fake = new FakeCoordination();
    const [a, b] = (await sessions(fake, 2)) as [Session, Session];
    const la = new Lock(a, "L");
    await la.acquire();
    const wb = track(new Lock(b, "L").acquire());
    const aKey = hexBytes(`L/${hexOf(a)}`);
    await until("b to wait", () => fake.openWatches.get(aKey) === 1);
    const started = fake.watchesStarted;
    fake.cancelWatches();
    await until(
      "b to watch a again",
      () => fake.watchesStarted === started + 1 && fake.openWatches.get(aKey) === 1,
    );
    expect(wb.settled).toBe(false);
    await la.release();
    await wb.promise;
  });

  it("times out with TimeoutError and leaves no key", async () => {
    const fake = new FakeCoordination();
    const [a, b] = (await sessions(fake, 2)) as [Session, Session];
    await new Lock(a, "L").acquire();
    const err = await new Lock(b, "L").acquire({ timeoutMs: 20 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect((await fake.range({ prefix: "L/" })).kvs.map((kv) => kv.lease)).toEqual([a.leaseId]);
  });

  it("a waiter whose session is lost stops with SessionEndedError, its key gone", async () => {
    const fake = new FakeCoordination();
    const [a, b] = (await sessions(fake, 2)) as [Session, Session];
    await new Lock(a, "L").acquire();
    const wb = track(new Lock(b, "L").acquire());
    await until("b to wait", () => fake.openWatches.get(hexBytes(`L/${hexOf(a)}`)) === 1);
    fake.expire(b.leaseId);
    const err = await wb.promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SessionEndedError);
    expect((await fake.range({ prefix: "L/" })).kvs.map((kv) => kv.lease)).toEqual([a.leaseId]);
  });

  it("tryAcquire takes a free lock, and leaves no trace when it is taken", async () => {
    const fake = new FakeCoordination();
    const [a, b] = (await sessions(fake, 2)) as [Session, Session];
    expect(await new Lock(a, "L").tryAcquire()).toBeDefined();
    expect(await new Lock(b, "L").tryAcquire()).toBeUndefined();
    expect((await fake.range({ prefix: "L/" })).kvs).toHaveLength(1);
  });

  it("refuses a second acquire through the same Lock or the same session and name", async () => {
    const fake = new FakeCoordination();
    const [a] = (await sessions(fake, 1)) as [Session];
    const la = new Lock(a, "L");
    await la.acquire();
    await expect(la.acquire()).rejects.toThrow(/already acquires or holds/);
    await expect(new Lock(a, "L").acquire()).rejects.toBeInstanceOf(AlreadyQueuedError);
    // A different name is a different lock.
    await expect(new Lock(a, "M").acquire()).resolves.toBeDefined();
  });

  it("withLock passes the token and releases after the function, even when it throws", async () => {
    const fake = new FakeCoordination();
    const [a] = (await sessions(fake, 1)) as [Session];
    await expect(
      withLock(a, "L", async (h) => {
        expect(h.revision).toBeGreaterThan(0);
        throw new Error("boom");
      }),
    ).rejects.toThrow("boom");
    expect((await fake.range({ prefix: "L/" })).kvs).toHaveLength(0);
  });

  it("closing the session revokes its lease, releasing its locks", async () => {
    const fake = new FakeCoordination();
    const [a] = (await sessions(fake, 1)) as [Session];
    await new Lock(a, "L").acquire();
    await a.close();
    expect(fake.leaseExists(a.leaseId)).toBe(false);
    expect((await fake.range({ prefix: "L/" })).kvs).toHaveLength(0);
    const ended = await a.ended;
    expect(ended.lost).toBe(false);
    await expect(new Lock(a, "L").acquire()).rejects.toBeInstanceOf(SessionEndedError);
  });
});

function hexBytes(s: string): string {
  return Array.from(new TextEncoder().encode(s), (x) => x.toString(16).padStart(2, "0")).join("");
}

describe("Session", () => {
  it("adopts an existing lease with its own TTL, and refuses a lease that is gone", async () => {
    const fake = new FakeCoordination();
    const granted = await fake.leases.grant(7);
    const s = await Session.create(fake, { leaseId: granted.id, ttlSeconds: 99 });
    expect(s.leaseId).toBe(granted.id);
    expect(s.ttlSeconds).toBe(7);
    fake.expire(granted.id);
    await expect(Session.create(fake, { leaseId: granted.id })).rejects.toThrow(/lease not found/);
  });
});
