// Backends against each other: a seeded random command sequence applied to memory, file and LMDB
// gives identical answers, events, final state and snapshot bytes; and snapshots move between
// backends. A failing seed is in the test name and replays exactly.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type Rng, seededRng } from "@d-engine/core";
import { afterAll, describe, expect, it } from "vitest";
import { encodeKvCommand } from "./codec.js";
import { b, Driver, dump } from "./conformance.js";
import { openFileKv } from "./file/file-kv.js";
import { openLmdbKv } from "./lmdb/lmdb-kv.js";
import { openMemoryKv } from "./memory/memory-kv.js";
import type { KvStateMachine } from "./state-machine.js";
import type {
  ClientSession,
  Compare,
  KvCommand,
  KvEventBatch,
  KvOperation,
  RequestOp,
} from "./types.js";

const root = await mkdtemp(join(tmpdir(), "dengine-kv-cross-"));
let n = 0;

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function allBackends(): Promise<KvStateMachine[]> {
  return [
    openMemoryKv(),
    await openFileKv({ dir: join(root, `file-${n++}`) }),
    openLmdbKv({ path: join(root, `lmdb-${n++}`) }),
  ];
}

/** Generates commands that hit every code path, errors included, from a seed. */
class CommandGen {
  private readonly sequences = new Map<string, number>();
  private timeMs = 10_000;
  constructor(
    private readonly rng: Rng,
    /** The reference state machine, to aim revisions near the live ones. */
    private readonly ref: KvStateMachine,
  ) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[this.rng.nextInt(xs.length)] as T;
  }

  private chance(p: number): boolean {
    return this.rng.nextInt(1000) < p * 1000;
  }

  private key(): Uint8Array {
    // A small keyspace (with a NUL and a prefix relation) so keys collide often.
    return b(this.pick(["a", "a\u0000", "ab", "b", "c", "k/1", "k/2", "k/3", "k/10", "z"]));
  }

  private rangeEnd(): Uint8Array | undefined {
    return this.pick([undefined, undefined, b("c"), b("k/3"), Uint8Array.of(0), b("a")]);
  }

  private revision(): number {
    const cur = this.ref.revision();
    return this.pick([0, 0, cur, Math.max(0, cur - 1 - this.rng.nextInt(8)), cur + 1]);
  }

  private lease(): number {
    return this.pick([0, 0, 0, 1, 2, 3, 4]);
  }

  private compare(): Compare {
    const target = this.pick(["version", "create", "mod", "value", "lease"] as const);
    const result = this.pick(["=", "!=", "<", ">"] as const);
    return target === "value"
      ? {
          key: this.key(),
          rangeEnd: this.rangeEnd(),
          target,
          result,
          value: b(this.pick(["", "1", "5"])),
        }
      : { key: this.key(), rangeEnd: this.rangeEnd(), target, result, number: this.rng.nextInt(6) };
  }

  private requestOp(depth: number): RequestOp {
    const k = this.rng.nextInt(depth < 2 ? 4 : 3);
    if (k === 0) {
      return {
        type: "range",
        key: this.key(),
        rangeEnd: this.rangeEnd(),
        revision: this.revision(),
        limit: this.rng.nextInt(3),
        sortOrder: this.pick(["none", "ascend", "descend"] as const),
        sortTarget: this.pick(["key", "version", "create", "mod", "value"] as const),
        keysOnly: this.chance(0.2),
        countOnly: this.chance(0.1),
        minModRevision: this.chance(0.2) ? this.rng.nextInt(10) : 0,
      };
    }
    if (k === 1) {
      return {
        type: "put",
        key: this.key(),
        value: b(String(this.rng.nextInt(10))),
        prevKv: this.chance(0.5),
      };
    }
    if (k === 2)
      return { type: "delete-range", key: this.key(), rangeEnd: this.rangeEnd(), prevKv: true };
    return { type: "txn", ...this.txn(depth + 1) };
  }

  private txn(depth: number) {
    const ops = (): RequestOp[] =>
      Array.from({ length: this.rng.nextInt(4) }, () => this.requestOp(depth));
    return {
      compare: Array.from({ length: this.rng.nextInt(3) }, () => this.compare()),
      success: ops(),
      failure: ops(),
    };
  }

  private op(): KvOperation {
    const r = this.rng.nextInt(100);
    if (r < 35) {
      const ignore = this.chance(0.1);
      return {
        type: "put",
        key: this.key(),
        value: ignore ? new Uint8Array(0) : b(String(this.rng.nextInt(10))),
        lease: this.lease(),
        prevKv: this.chance(0.5),
        ignoreValue: ignore,
        ignoreLease: this.chance(0.05),
      };
    }
    if (r < 45)
      return {
        type: "delete-range",
        key: this.key(),
        rangeEnd: this.rangeEnd(),
        prevKv: this.chance(0.5),
      };
    if (r < 65) return { type: "txn", ...this.txn(0) };
    if (r < 69) return { type: "compaction", revision: this.revision() };
    if (r < 75) return { type: "lease-grant", ttl: 1 + this.rng.nextInt(20), id: this.lease() };
    if (r < 78) return { type: "lease-revoke", id: this.lease() };
    if (r < 84) return { type: "lease-keep-alive", id: this.lease() };
    if (r < 86) {
      const ids = this.ref.expiredLeases(this.timeMs, 3);
      return { type: "lease-expire", ids: this.chance(0.3) ? [...ids, this.lease()] : ids };
    }
    if (r < 88) {
      // The leader's form: renew indexes, some stale (renewed since it decided).
      const leases = this.ref.leases().slice(0, 3);
      return {
        type: "lease-expire",
        ids: leases.map((l) => l.id),
        renewIndexes: leases.map((l) => (this.chance(0.7) ? l.renewIndex : l.renewIndex + 1)),
      };
    }
    if (r < 90) {
      const leases = this.ref.leases().slice(0, 4);
      return {
        type: "lease-checkpoint",
        checkpoints: leases.map((l) => ({
          id: l.id,
          remainingMs: this.rng.nextInt(l.ttl * 1000 + 5_000),
          renewIndex: this.chance(0.8) ? l.renewIndex : 0,
        })),
      };
    }
    if (r < 96)
      return {
        type: "put-with-ttl",
        key: this.key(),
        value: b("t"),
        ttl: 1 + this.rng.nextInt(10),
      };
    return { type: "noop" };
  }

  command(): KvCommand {
    this.timeMs += this.rng.nextInt(3000);
    let session: ClientSession | undefined;
    if (this.chance(0.3)) {
      const clientId = this.pick(["c1", "c2", "c3"]);
      const last = this.sequences.get(clientId) ?? 0;
      // Mostly new writes, some retries of the last one (duplicates), a few stale ones.
      const sequence = this.chance(0.25) && last > 0 ? last - this.rng.nextInt(2) : last + 1;
      this.sequences.set(clientId, Math.max(last, sequence));
      session = { clientId, sequence };
    }
    // Log time sometimes goes backwards (a new leader's clock): the state machine must not.
    const timeMs = this.chance(0.05) ? this.timeMs - 5000 : this.timeMs;
    return { op: this.op(), timeMs, session };
  }
}

describe("KV backends agree", () => {
  for (const seed of [1, 2, 3, 20240611]) {
    it(`random commands (seed ${seed}): identical answers, events, state and snapshots`, async () => {
      const sms = await allBackends();
      const events = sms.map(() => [] as KvEventBatch[]);
      sms.forEach((sm, i) => {
        sm.onEvents((e) => events[i]?.push(e));
      });
      const rng = seededRng(seed);
      const ref = sms[0] as KvStateMachine;
      const gen = new CommandGen(rng, ref);
      let index = 0;
      for (let batch = 0; batch < 120; batch++) {
        const entries = Array.from({ length: 1 + rng.nextInt(6) }, () => {
          // Some indexes are skipped (entries the state machine never sees, like conf changes).
          index += 1 + (rng.nextInt(10) === 0 ? 1 : 0);
          return { index, command: encodeKvCommand(gen.command()) };
        });
        const results = sms.map((sm) => sm.applyBatch(entries));
        expect(results[1], `file vs memory, batch ${batch}`).toEqual(results[0]);
        expect(results[2], `lmdb vs memory, batch ${batch}`).toEqual(results[0]);
        if (batch % 30 === 29) {
          const states = sms.map(dump);
          expect(states[1]).toEqual(states[0]);
          expect(states[2]).toEqual(states[0]);
        }
      }
      expect(ref.revision()).toBeGreaterThan(50);
      expect(events[1]).toEqual(events[0]);
      expect(events[2]).toEqual(events[0]);
      const states = sms.map(dump);
      expect(states[1]).toEqual(states[0]);
      expect(states[2]).toEqual(states[0]);
      const snaps = sms.map((sm) => sm.snapshotBytes());
      expect(snaps[1]).toEqual(snaps[0]);
      expect(snaps[2]).toEqual(snaps[0]);
      await Promise.all(sms.map((sm) => sm.close()));
    });
  }

  // Followers apply the same entries in other batches than the leader: the outcome must not
  // depend on where batches end (the session write-back cache, expiry inside a batch).
  for (const seed of [7, 8]) {
    it(`random commands (seed ${seed}): batch boundaries do not change answers or state`, async () => {
      const opts = { sessionIdleMs: 10_000, maxSessionAnswers: 3 };
      const clients = ["c1", "c2", "c3"];
      const batched = openMemoryKv(opts);
      const single = openMemoryKv(opts);
      const lmdb = openLmdbKv({ ...opts, path: join(root, `lmdb-${n++}`), sync: false });
      const rng = seededRng(seed);
      const gen = new CommandGen(rng, batched);
      let index = 0;
      let expired = 0;
      for (let batch = 0; batch < 150; batch++) {
        const entries = Array.from({ length: 1 + rng.nextInt(12) }, () => {
          index++;
          return { index, command: encodeKvCommand(gen.command()) };
        });
        const before = clients.filter((c) => batched.session(c) !== undefined).length;
        const want = batched.applyBatch(entries);
        const one = entries.map((e) => single.applyBatch([e])[0]);
        expect(one, `one by one vs batched, batch ${batch}`).toEqual(want);
        expect(lmdb.applyBatch(entries), `LMDB vs memory, batch ${batch}`).toEqual(want);
        for (const c of clients) {
          expect(lmdb.session(c), `session ${c}, batch ${batch}`).toEqual(batched.session(c));
          expect(single.session(c), `session ${c}, batch ${batch}`).toEqual(batched.session(c));
        }
        if (clients.filter((c) => batched.session(c) !== undefined).length < before) expired++;
      }
      expect(dump(single)).toEqual(dump(batched));
      expect(dump(lmdb)).toEqual(dump(batched));
      expect(single.snapshotBytes()).toEqual(batched.snapshotBytes());
      expect(lmdb.snapshotBytes()).toEqual(batched.snapshotBytes());
      // The seeds were chosen so that sessions do expire (inside batches too).
      expect(expired).toBeGreaterThan(0);
      await lmdb.close();
    });
  }

  it("a snapshot moves memory -> LMDB -> file -> memory unchanged", async () => {
    const d = new Driver(openMemoryKv());
    d.do({ type: "lease-grant", ttl: 100, id: 77 });
    for (let i = 0; i < 300; i++)
      d.put(`key/${i % 50}`, `value-${i}`, i % 7 === 0 ? { lease: 77 } : {});
    d.del("key/1", "key/2");
    d.do({ type: "compaction", revision: 150 });
    d.applyOp(
      { type: "put", key: b("s"), value: b("1") },
      { session: { clientId: "x", sequence: 9 } },
    );
    const expected = dump(d.sm);
    const bytes = d.sm.snapshotBytes();
    const lmdb = openLmdbKv({ path: join(root, `lmdb-${n++}`) });
    await lmdb.restore(bytes);
    expect(dump(lmdb)).toEqual(expected);
    const file = await openFileKv({ dir: join(root, `file-${n++}`) });
    await file.restore(lmdb.snapshot());
    expect(dump(file)).toEqual(expected);
    const mem = openMemoryKv();
    await mem.restore(file.snapshotBytes());
    expect(dump(mem)).toEqual(expected);
    expect(mem.snapshotBytes()).toEqual(bytes);
    await Promise.all([d.sm.close(), lmdb.close(), file.close(), mem.close()]);
  });
});
