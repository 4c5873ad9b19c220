import { describe, expect, it } from "vitest";
import { KvCommandError, UnavailableError } from "../errors.js";
import type { CallOptions } from "../types.js";
import { createLeaseKeeper, type KeeperClock } from "./keeper.js";
import type { LeaseGrant, LeaseLost, LeaseStall } from "./types.js";

/** A manual clock: time moves only when the test says, timers fire in due order. */
class ManualClock implements KeeperClock {
  t = 1_000;
  private seq = 0;
  private timers = new Map<number, { due: number; fn: () => void }>();
  now(): number {
    return this.t;
  }
  setTimer(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { due: this.t + ms, fn });
    return id;
  }
  clearTimer(h: unknown): void {
    this.timers.delete(h as number);
  }
  /** Moves time forward to `to`, firing each timer at its due time (and flushing promises). */
  async advanceTo(to: number): Promise<void> {
    for (;;) {
      let next: [number, { due: number; fn: () => void }] | undefined;
      for (const e of this.timers) if (!next || e[1].due < next[1].due) next = e;
      if (!next || next[1].due > to) break;
      this.timers.delete(next[0]);
      this.t = Math.max(this.t, next[1].due);
      next[1].fn();
      await flush();
    }
    this.t = to;
    await flush();
  }
  /** The event loop was blocked for `ms`: time jumps, then overdue timers fire late. */
  async stall(ms: number): Promise<void> {
    this.t += ms;
    await this.advanceTo(this.t);
  }
}

async function flush(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

/** A keep-alive endpoint whose answers the test controls. */
class FakeServer {
  readonly sent: { at: number; resolve: (g: LeaseGrant) => void; reject: (e: unknown) => void }[] =
    [];
  constructor(private readonly clock: ManualClock) {}
  send = (_id: number, _opts: CallOptions): Promise<LeaseGrant> =>
    new Promise((resolve, reject) => this.sent.push({ at: this.clock.now(), resolve, reject }));
  answerLast(ttlSeconds = 9): void {
    this.sent.at(-1)?.resolve({ id: 7, ttlSeconds });
  }
}

function setup(opts: Parameters<typeof createLeaseKeeper>[2] = {}) {
  const clock = new ManualClock();
  const server = new FakeServer(clock);
  const lost: LeaseLost[] = [];
  const stalls: LeaseStall[] = [];
  const keeper = createLeaseKeeper(7, server.send, opts, clock);
  keeper.on("lost", (l) => lost.push(l));
  keeper.on("stall", (s) => stalls.push(s));
  return { clock, server, keeper, lost, stalls };
}

describe("lease keeper", () => {
  it("renews every third of the TTL; the deadline is the send time of the last answer plus the TTL", async () => {
    const { clock, server, keeper, lost } = setup();
    expect(server.sent).toHaveLength(1); // the first keep-alive goes at once
    await clock.advanceTo(1_100);
    server.answerLast(9);
    await flush();
    expect(keeper.deadlineMs).toBe(1_000 + 9_000);
    for (let i = 1; i <= 5; i++) {
      await clock.advanceTo(1_000 + i * 3_000);
      expect(server.sent).toHaveLength(i + 1);
      expect(server.sent[i]?.at).toBe(1_000 + i * 3_000);
      await clock.advanceTo(1_000 + i * 3_000 + 200); // answered 200 ms later
      server.answerLast(9);
      await flush();
      expect(keeper.deadlineMs).toBe(1_000 + i * 3_000 + 9_000);
    }
    expect(lost).toEqual([]);
    await keeper.stop();
    await clock.advanceTo(100_000);
    expect(server.sent).toHaveLength(6);
    expect(keeper.stopped).toBe(true);
  });

  it("declares the lease lost exactly when its deadline passes unanswered (not after 2x TTL)", async () => {
    const { clock, server, keeper, lost } = setup();
    server.answerLast(9); // sent at 1000: deadline 10000
    await flush();
    // Every later keep-alive goes unanswered (the server is unreachable).
    await clock.advanceTo(9_999);
    expect(lost).toEqual([]);
    expect(keeper.stopped).toBe(false);
    await clock.advanceTo(10_000);
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toMatch(/deadline/);
    await expect(keeper.lost).resolves.toEqual(lost[0]);
    expect(keeper.stopped).toBe(true);
    // An answer arriving late changes nothing.
    server.answerLast(9);
    await flush();
    expect(lost).toHaveLength(1);
  });

  it("an answer that arrives after its own deadline does not revive the lease", async () => {
    const { clock, server, lost } = setup({ ttlSeconds: 3 });
    await clock.stall(3_500); // the answer to the keep-alive sent at 1000 comes at 4500
    server.answerLast(3);
    await flush();
    expect(lost).toHaveLength(1);
  });

  it("the server saying the lease is gone loses it at once", async () => {
    const { clock, server, lost } = setup();
    server.answerLast(9);
    await flush();
    await clock.advanceTo(4_000);
    server.sent.at(-1)?.reject(new KvCommandError("lease-not-found", "lease 7 not found"));
    await flush();
    expect(lost).toHaveLength(1);
    expect(lost[0]?.reason).toMatch(/gone/);
  });

  it("retries failed keep-alives (a leader change) and keeps the lease when one gets through", async () => {
    const { clock, server, keeper, lost } = setup();
    server.answerLast(9);
    await flush();
    await clock.advanceTo(4_000);
    const before = server.sent.length;
    server.sent.at(-1)?.reject(new UnavailableError("no leader"));
    await flush();
    await clock.advanceTo(4_600);
    expect(server.sent.length).toBeGreaterThan(before);
    server.answerLast(9);
    await flush();
    expect(keeper.deadlineMs).toBeGreaterThan(10_000);
    expect(lost).toEqual([]);
  });

  it("warns of an event-loop stall that endangers the lease, and loses a lease the stall outlived", async () => {
    const { clock, server, stalls, lost } = setup({ ttlSeconds: 9 });
    server.answerLast(9);
    await flush();
    await clock.advanceTo(2_000);
    await clock.stall(1_000); // shorter than a keep-alive interval: harmless
    expect(stalls).toEqual([]);
    await clock.stall(4_000);
    expect(stalls).toHaveLength(1);
    expect(stalls[0]?.stalledMs).toBeGreaterThanOrEqual(3_000);
    expect(stalls[0]?.remainingMs).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    await clock.stall(10_000);
    expect(stalls.length).toBeGreaterThanOrEqual(2);
    expect(lost).toHaveLength(1);
  });

  it("stops on its signal; lost never settles after a stop", async () => {
    const ctl = new AbortController();
    const { clock, server, keeper, lost } = setup({ signal: ctl.signal });
    server.answerLast(9);
    await flush();
    ctl.abort();
    await clock.advanceTo(60_000);
    expect(keeper.stopped).toBe(true);
    expect(server.sent).toHaveLength(1);
    expect(lost).toEqual([]);
    const settled = await Promise.race([keeper.lost.then(() => true), flush().then(() => false)]);
    expect(settled).toBe(false);
  });
});
