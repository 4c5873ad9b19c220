// The watch hub over a real (memory) state machine: seeded random workloads checked against the
// events the state machine emitted, the seam between history and live events, compaction,
// slow consumers, progress, snapshot gaps and cancellation.
import { text, type WatchBatch, WatchCanceledError, type WatchOptions } from "@d-engine/client";
import { seededRng } from "@d-engine/core";
import {
  type KvEventBatch,
  type KvOperation,
  type KvStateMachine,
  openMemoryKv,
  utf8,
} from "@d-engine/storage";
import { afterEach, describe, expect, it } from "vitest";
import { WatchHub, type WatchHubOptions } from "./watch-hub.js";

class Fixture {
  index = 0;
  readonly emitted: KvEventBatch[] = [];
  readonly hub: WatchHub;

  constructor(
    public sm: KvStateMachine,
    opts: WatchHubOptions = {},
  ) {
    sm.onEvents((b) => this.emitted.push(b));
    this.hub = new WatchHub(sm, opts);
  }

  op(op: KvOperation): void {
    this.sm.apply(++this.index, { op, timeMs: 1000 });
  }

  put(key: string, value: string): void {
    this.op({ type: "put", key: utf8(key), value: utf8(value) });
  }

  del(key: string, rangeEnd?: string): void {
    this.op({
      type: "delete-range",
      key: utf8(key),
      ...(rangeEnd ? { rangeEnd: utf8(rangeEnd) } : {}),
    });
  }
}

let fixtures: Fixture[] = [];
afterEach(async () => {
  for (const f of fixtures) {
    f.hub.close();
    await f.sm.close();
  }
  fixtures = [];
});

function fixture(opts?: WatchHubOptions): Fixture {
  const f = new Fixture(openMemoryKv(), opts);
  fixtures.push(f);
  return f;
}

/** One line per event, as the expected-vs-seen comparison reads best. */
function lines(revision: number, events: WatchBatch["events"]): string[] {
  return events.map(
    (e) =>
      `${revision} ${e.type} ${text(e.kv.key)}=${text(e.kv.value)} v${e.kv.version}${
        e.prevKv ? ` prev=${text(e.prevKv.value)}` : ""
      }`,
  );
}

/** Pulls batches until `until` holds of what was seen, with a bounded number of pulls. */
async function take(
  it: AsyncIterator<WatchBatch>,
  until: (seen: WatchBatch[]) => boolean,
  max = 10_000,
): Promise<WatchBatch[]> {
  const seen: WatchBatch[] = [];
  while (!until(seen)) {
    if (seen.length >= max) throw new Error(`no end after ${max} batches`);
    const r = await it.next();
    if (r.done) throw new Error("the watch ended early");
    seen.push(r.value);
  }
  return seen;
}

describe("WatchHub", () => {
  const SEED = Number(process.env.WATCH_SEED ?? 20261123);

  it(`random workloads: every watcher sees exactly its matching events, in order (seed ${SEED})`, async () => {
    console.log(`watch-hub random workload seed ${SEED}`);
    const rng = seededRng(SEED);
    const f = fixture({ historyPageRevisions: 7 });
    const keys = ["a", "a/1", "a/2", "ab", "b", "b/x", "c"];
    const pick = <T>(xs: readonly T[]): T => xs[rng.nextInt(xs.length)] as T;
    const randomOp = () => {
      const r = rng.nextInt(10);
      if (r < 6) f.put(pick(keys), `v${f.index}`);
      else if (r < 8) f.del(pick(keys));
      else if (r < 9) f.del("a", "b");
      else
        f.op({
          type: "txn",
          compare: [],
          success: [
            { type: "put", key: utf8(pick(keys.slice(0, 3))), value: utf8(`t${f.index}`) },
            { type: "put", key: utf8(pick(keys.slice(4))), value: utf8(`u${f.index}`) },
          ],
          failure: [],
        });
    };
    for (let i = 0; i < 60; i++) randomOp();

    const selections: WatchOptions[] = [
      { key: "a" },
      { prefix: "a/" },
      { prefix: "a" },
      { key: "a", rangeEnd: "b/y" },
      { prefix: "" },
      { key: "b", rangeEnd: "\0" },
    ];
    interface Running {
      readonly opts: WatchOptions;
      readonly it: AsyncIterator<WatchBatch>;
      readonly seen: string[];
      readonly revisions: number[];
    }
    const running: Running[] = [];
    const startWatch = () => {
      const cur = f.sm.revision();
      const start = rng.nextInt(3) === 0 ? 0 : 1 + rng.nextInt(cur + 2);
      const opts: WatchOptions = {
        ...pick(selections),
        startRevision: start,
        prevKv: rng.nextInt(2) === 0,
        noPut: rng.nextInt(5) === 0,
        noDelete: rng.nextInt(5) === 0,
      };
      const w = f.hub.watch(opts);
      running.push({
        opts: start === 0 ? { ...opts, startRevision: cur + 1 } : opts,
        it: w[Symbol.asyncIterator](),
        seen: [],
        revisions: [],
      });
    };
    for (let i = 0; i < 8; i++) startWatch();
    // Interleave writes, new watches and consumption.
    for (let step = 0; step < 200; step++) {
      const r = rng.nextInt(10);
      if (r < 5) randomOp();
      else if (r < 6) startWatch();
      else {
        const w = pick(running);
        // Pull only what is surely there (the watch is behind the state machine), so a pull
        // never blocks: a bounded number of batches per step.
        const expectedLeft = expected(w.opts).length - w.seen.length;
        if (expectedLeft > 0) {
          const b = (await w.it.next()).value as WatchBatch;
          w.seen.push(...lines(b.revision, b.events));
          w.revisions.push(b.revision);
        }
      }
    }
    function expected(o: WatchOptions): string[] {
      // What the state machine emitted, selected by an independent matcher: the reference.
      return f.emitted
        .filter((b) => b.revision >= (o.startRevision ?? 1))
        .flatMap((b) =>
          lines(
            b.revision,
            b.events
              .filter((e) => matches(o, text(e.kv.key)))
              .filter((e) => !(o.noPut && e.type === "put") && !(o.noDelete && e.type === "delete"))
              .map((e) => (o.prevKv ? e : { type: e.type, kv: e.kv })),
          ),
        );
    }
    for (const w of running) {
      const want = expected(w.opts);
      while (w.seen.length < want.length) {
        const b = (await w.it.next()).value as WatchBatch;
        w.seen.push(...lines(b.revision, b.events));
        w.revisions.push(b.revision);
      }
      expect(w.seen, JSON.stringify(w.opts)).toEqual(want);
      // Strictly increasing revisions: no duplicate batch, no reordering.
      expect(w.revisions).toEqual([...new Set(w.revisions)].sort((a, b) => a - b));
    }
    expect(f.hub.size).toBe(running.length);
  });

  it("a watch from a past revision replays history then continues live, with no gap or duplicate at the seam", async () => {
    const f = fixture({ historyPageRevisions: 2 });
    for (let i = 1; i <= 5; i++) f.put("k", `${i}`);
    const w = f.hub.watch({ key: "k", startRevision: 2, prevKv: true });
    const it = w[Symbol.asyncIterator]();
    // Read one history batch, then write more while the watch is still catching up.
    const first = await it.next();
    expect(first.value?.revision).toBe(2);
    f.put("k", "6");
    f.put("k", "7");
    const rest = await take(it, (s) => s[s.length - 1]?.revision === 7);
    expect(rest.map((b) => b.revision)).toEqual([3, 4, 5, 6, 7]);
    expect(rest.map((b) => text(b.events[0]?.prevKv?.value ?? new Uint8Array()))).toEqual([
      "2",
      "3",
      "4",
      "5",
      "6",
    ]);
    f.put("k", "8");
    expect((await it.next()).value?.revision).toBe(8);
  });

  it("a watch from now sees only later changes; one from the future waits for its revision", async () => {
    const f = fixture();
    f.put("k", "1");
    const now = f.hub.watch({ key: "k" })[Symbol.asyncIterator]();
    const future = f.hub.watch({ key: "k", startRevision: 4 })[Symbol.asyncIterator]();
    f.put("k", "2");
    f.put("k", "3");
    f.put("k", "4");
    expect((await take(now, (s) => s.length === 3)).map((b) => b.revision)).toEqual([2, 3, 4]);
    expect((await future.next()).value?.revision).toBe(4);
  });

  it("filters puts or deletes and leaves out previous values unless asked", async () => {
    const f = fixture();
    const puts = f.hub.watch({ prefix: "p/", noDelete: true })[Symbol.asyncIterator]();
    const dels = f.hub.watch({ prefix: "p/", noPut: true, prevKv: true })[Symbol.asyncIterator]();
    f.put("p/1", "a");
    f.put("q", "x");
    f.del("p/1");
    f.put("p/2", "b");
    const p = await take(puts, (s) => s.length === 2);
    expect(p.flatMap((b) => lines(b.revision, b.events))).toEqual([
      "1 put p/1=a v1",
      "4 put p/2=b v1",
    ]);
    const d = await dels.next();
    expect(lines(d.value?.revision ?? 0, d.value?.events ?? [])).toEqual([
      "3 delete p/1= v0 prev=a",
    ]);
  });

  it("a start at or below the compacted revision is canceled with the compacted revision", async () => {
    const f = fixture();
    for (let i = 1; i <= 4; i++) f.put("k", `${i}`);
    f.op({ type: "compaction", revision: 3 });
    const it = f.hub.watch({ key: "k", startRevision: 3 })[Symbol.asyncIterator]();
    const err = await it.next().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect((err as WatchCanceledError).compactRevision).toBe(3);
    expect((err as WatchCanceledError).reason).toBe("compacted");
    // Just above it: replayed.
    const ok = f.hub.watch({ key: "k", startRevision: 4 })[Symbol.asyncIterator]();
    expect((await ok.next()).value?.revision).toBe(4);
  });

  it("a compaction that overtakes a watch catching up cancels it, after what it delivered", async () => {
    const f = fixture({ historyPageRevisions: 1 });
    for (let i = 1; i <= 6; i++) f.put("k", `${i}`);
    const it = f.hub.watch({ key: "k", startRevision: 1 })[Symbol.asyncIterator]();
    expect((await it.next()).value?.revision).toBe(1);
    f.op({ type: "compaction", revision: 4 });
    const err = await take(it, () => false).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect((err as WatchCanceledError).compactRevision).toBe(4);
  });

  it("a slow consumer is canceled with a reason after the batches it holds, never skipped", async () => {
    const f = fixture({ maxBufferedEvents: 3 });
    const it = f.hub.watch({ key: "k" })[Symbol.asyncIterator]();
    for (let i = 1; i <= 5; i++) f.put("k", `${i}`);
    expect(f.hub.size).toBe(0);
    const got: number[] = [];
    const err = await (async () => {
      for (;;) {
        const r = await it.next();
        if (r.done) return undefined;
        got.push(r.value.revision);
      }
    })().catch((e: unknown) => e);
    expect(got).toEqual([1, 2, 3]);
    expect(err).toBeInstanceOf(WatchCanceledError);
    expect((err as WatchCanceledError).reason).toBe("slow consumer");
    // Resuming from the last delivered revision + 1 loses nothing.
    const resumed = f.hub.watch({ key: "k", startRevision: 4 })[Symbol.asyncIterator]();
    expect((await take(resumed, (s) => s.length === 2)).map((b) => b.revision)).toEqual([4, 5]);
  });

  it("history larger than the buffer only paces the catch-up; one revision larger than the buffer is delivered", async () => {
    const f = fixture({ maxBufferedEvents: 3, historyPageRevisions: 100 });
    for (let i = 1; i <= 10; i++) f.put("k", `${i}`);
    const it = f.hub.watch({ key: "k", startRevision: 1 })[Symbol.asyncIterator]();
    expect((await take(it, (s) => s.length === 10)).map((b) => b.revision)).toEqual([
      1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    ]);
    // Live: a transaction writing 5 keys at once, into an empty buffer.
    const big = f.hub.watch({ prefix: "t/" })[Symbol.asyncIterator]();
    f.op({
      type: "txn",
      compare: [],
      success: [1, 2, 3, 4, 5].map((i) => ({
        type: "put" as const,
        key: utf8(`t/${i}`),
        value: utf8("x"),
      })),
      failure: [],
    });
    expect((await big.next()).value?.events).toHaveLength(5);
  });

  it("progress: on demand at the current revision (after catching up), periodic only when asked and idle", async () => {
    const f = fixture({ historyPageRevisions: 1 });
    f.put("x", "1");
    f.put("x", "2");
    const quiet = f.hub.watch({ key: "k" });
    const q = quiet[Symbol.asyncIterator]();
    quiet.requestProgress();
    expect((await q.next()).value).toEqual({ revision: 2, events: [], progress: true });
    // A watch still catching up answers once it has caught up.
    const past = f.hub.watch({ key: "x", startRevision: 1, progressNotify: true });
    past.requestProgress();
    const p = past[Symbol.asyncIterator]();
    const seen = await take(p, (s) => s.some((b) => b.progress));
    expect(seen.map((b) => [b.revision, b.progress])).toEqual([
      [1, false],
      [2, false],
      [2, true],
    ]);
    f.put("other", "1");
    f.hub.notifyProgress();
    // Only the watch that asked for progressNotify gets the periodic one.
    expect((await p.next()).value).toEqual({ revision: 3, events: [], progress: true });
    quiet.requestProgress();
    expect((await q.next()).value).toEqual({ revision: 3, events: [], progress: true });
  });

  it("revisions installed by a snapshot (never emitted) are read from history: no gap", async () => {
    const f = fixture();
    const leader = openMemoryKv();
    const it = f.hub.watch({ prefix: "s/" })[Symbol.asyncIterator]();
    // The follower applies revision 1, then misses 2..4 and gets a snapshot of them.
    const cmd = (i: number) =>
      ({ op: { type: "put", key: utf8(`s/${i}`), value: utf8(`${i}`) } }) as const;
    leader.apply(1, cmd(1));
    f.sm.apply(++f.index, cmd(1));
    for (let i = 2; i <= 4; i++) leader.apply(i, cmd(i));
    await f.sm.restore(leader.snapshotBytes());
    f.index = 4;
    f.sm.apply(++f.index, cmd(5));
    const got = await take(it, (s) => s.length === 5);
    expect(got.flatMap((b) => lines(b.revision, b.events))).toEqual([
      "1 put s/1=1 v1",
      "2 put s/2=2 v1",
      "3 put s/3=3 v1",
      "4 put s/4=4 v1",
      "5 put s/5=5 v1",
    ]);
    await leader.close();
  });

  it("cancel, an aborted signal and breaking the loop end the watch; closing the hub cancels with a reason", async () => {
    const f = fixture();
    const w = f.hub.watch({ key: "k" });
    const ctl = new AbortController();
    const aborted = f.hub.watch({ key: "k", signal: ctl.signal });
    const stopped = f.hub.watch({ key: "k" });
    expect(f.hub.size).toBe(3);
    const pending = w[Symbol.asyncIterator]().next();
    w.cancel();
    expect(await pending).toEqual({ done: true, value: undefined });
    ctl.abort();
    expect(await aborted[Symbol.asyncIterator]().next()).toEqual({ done: true, value: undefined });
    f.put("k", "1");
    for await (const b of f.hub.watch({ key: "k", startRevision: 1 })) {
      expect(b.revision).toBe(1);
      break;
    }
    expect(f.hub.size).toBe(1);
    f.hub.close("the node stopped");
    const s = stopped[Symbol.asyncIterator]();
    expect((await s.next()).value?.revision).toBe(1);
    await expect(s.next()).rejects.toThrow(/node stopped/);
    await expect(f.hub.watch({ key: "k" })[Symbol.asyncIterator]().next()).rejects.toBeInstanceOf(
      WatchCanceledError,
    );
  });
});

/** The reference matcher for the random test (string keys). */
function matches(o: WatchOptions, k: string): boolean {
  if (o.prefix !== undefined) return k.startsWith(o.prefix as string);
  const key = o.key as string;
  if (o.rangeEnd === undefined) return k === key;
  if (o.rangeEnd === "\0") return k >= key;
  return k >= key && k < (o.rangeEnd as string);
}
