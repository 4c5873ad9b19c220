import { existsSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runConformance } from "./conformance.js";
import { currentBootId, lmdbStateMayBeTorn } from "./lmdb/background-sync.js";
import { openLmdbKv } from "./lmdb/lmdb-kv.js";
import type { KvStateMachine } from "./state-machine.js";

const root = await mkdtemp(join(tmpdir(), "dengine-kv-lmdb-"));
let n = 0;
const paths = new Map<KvStateMachine, string>();

function openAt(path: string, sync = true): KvStateMachine {
  const sm = openLmdbKv({ path, sync });
  paths.set(sm, path);
  return sm;
}

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

runConformance({
  name: "lmdb",
  open: async () => openAt(join(root, `db-${n++}`)),
  // Every applied batch is one synced LMDB transaction: nothing more to do.
  persist: async () => {},
  reopen: async (sm) => {
    const path = paths.get(sm) as string;
    await sm.close();
    return openAt(path);
  },
});

// The engine's default: commits not flushed before applyBatch returns, flushed in the background.
const unsynced = new Set<KvStateMachine>();
runConformance({
  name: "lmdb, background sync",
  open: async () => {
    const sm = openAt(join(root, `db-${n++}`), false);
    unsynced.add(sm);
    return sm;
  },
  // A clean close flushes: what a reopen sees is what was applied.
  persist: async () => {},
  reopen: async (sm) => {
    const path = paths.get(sm) as string;
    await sm.close();
    return openAt(path, false);
  },
});

describe("LMDB background sync", () => {
  it("marks the environment unsynced while open and clears the mark on a clean close", async () => {
    const path = join(root, `db-${n++}`);
    const sm = openAt(path, false);
    sm.apply(1, { op: { type: "put", key: Uint8Array.of(1), value: Uint8Array.of(2) } });
    expect(existsSync(join(path, "unsynced-boot-id"))).toBe(true);
    // Same boot: only the process could have died, the page cache holds every commit.
    expect(lmdbStateMayBeTorn(path)).toBeUndefined();
    // Another boot: the file may be torn and must not be trusted.
    expect(lmdbStateMayBeTorn(path, "another-boot")).toMatch(/may be torn/);
    await sm.close();
    expect(existsSync(join(path, "unsynced-boot-id"))).toBe(false);
    expect(lmdbStateMayBeTorn(path, "another-boot")).toBeUndefined();
    const again = openAt(path, false);
    expect(again.appliedIndex()).toBe(1);
    expect(again.get(Uint8Array.of(1))?.value).toEqual(Uint8Array.of(2));
    await again.close();
  });

  it("never trusts a mark whose boot cannot be told", () => {
    const path = join(root, `db-${n++}`);
    const sm = openAt(path, false);
    writeFileSync(join(path, "unsynced-boot-id"), "unknown");
    expect(lmdbStateMayBeTorn(path, "unknown")).toMatch(/may be torn/);
    expect(currentBootId()).not.toBe("");
    return sm.close();
  });
});

describe("LMDB backend specifics", () => {
  it("an applied batch and its applied index are durable together, before applyBatch returns", async () => {
    const path = join(root, `db-${n++}`);
    const sm = openAt(path);
    sm.apply(1, { op: { type: "put", key: Uint8Array.of(1), value: Uint8Array.of(2) } });
    // A second environment handle on the same files sees the committed state at once.
    const peek = openAt(path);
    expect(peek.appliedIndex()).toBe(1);
    expect(peek.get(Uint8Array.of(1))?.value).toEqual(Uint8Array.of(2));
    await peek.close();
    await sm.close();
  });
});
