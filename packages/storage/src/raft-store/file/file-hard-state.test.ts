// The hard-state file's unsynced commit slot: commit-only saves land in a third slot without
// fsync, are picked up at open when they belong to the synced state's term and vote, and can
// never damage or outrank the synced state. Commit-only saves closer together than
// COMMIT_SLOT_INTERVAL_MS are coalesced: the newest is written when the interval is up, or at close.
import { mkdtemp, open as openFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { COMMIT_SLOT_INTERVAL_MS, HARD_STATE_FILE, openFileHardState } from "./file-hard-state.js";

const root = await mkdtemp(join(tmpdir(), "dengine-hardstate-"));
let n = 0;
afterAll(() => rm(root, { recursive: true, force: true }));

async function fresh(): Promise<string> {
  return join(root, `hs-${n++}`);
}

describe("file hard state: the unsynced commit slot", () => {
  it("a commit-only save is read back at open, on top of the synced term and vote", async () => {
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    await hs.save({ term: 3, vote: 2, commit: 10 });
    hs.saveUnsynced?.({ term: 3, vote: 2, commit: 15 });
    expect(hs.load()).toEqual({ term: 3, vote: 2, commit: 15 });
    await hs.close();
    const again = await openFileHardState(dir);
    expect(again.load()).toEqual({ term: 3, vote: 2, commit: 15 });
    await again.close();
  });

  it("is ignored once a synced save moved to another term or vote", async () => {
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    await hs.save({ term: 3, vote: 2, commit: 10 });
    hs.saveUnsynced?.({ term: 3, vote: 2, commit: 15 });
    await hs.save({ term: 4, vote: 0, commit: 12 });
    await hs.close();
    const again = await openFileHardState(dir);
    expect(again.load()).toEqual({ term: 4, vote: 0, commit: 12 });
    await again.close();
  });

  it("never lowers a synced commit", async () => {
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    hs.saveUnsynced?.({ term: 0, vote: 0, commit: 5 });
    await hs.save({ term: 0, vote: 0, commit: 9 });
    await hs.close();
    const again = await openFileHardState(dir);
    expect(again.load().commit).toBe(9);
    await again.close();
  });

  it("a torn commit slot (a crash mid-write) is ignored and the synced state stands", async () => {
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    await hs.save({ term: 2, vote: 1, commit: 7 });
    hs.saveUnsynced?.({ term: 2, vote: 1, commit: 8 });
    await hs.close();
    const f = await openFile(join(dir, HARD_STATE_FILE), "r+");
    await f.write(Buffer.alloc(40, 0xff), 0, 40, 1024 + 8);
    await f.close();
    const again = await openFileHardState(dir);
    expect(again.load()).toEqual({ term: 2, vote: 1, commit: 7 });
    await again.close();
  });
});

describe("file hard state: commit-only saves are coalesced", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  /** What a fresh open of `dir` reads now (the file as it is on disk, the commit slot included). */
  async function onDisk(dir: string) {
    const reader = await openFileHardState(dir);
    const hs = reader.load();
    await reader.close();
    return hs;
  }

  it("the first is written at once, the next ones when the interval is up, the newest winning", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] });
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    await hs.save({ term: 1, vote: 1, commit: 1 });
    hs.saveUnsynced?.({ term: 1, vote: 1, commit: 2 });
    expect((await onDisk(dir)).commit).toBe(2);
    hs.saveUnsynced?.({ term: 1, vote: 1, commit: 3 });
    hs.saveUnsynced?.({ term: 1, vote: 1, commit: 4 });
    expect(hs.load().commit).toBe(4);
    expect((await onDisk(dir)).commit).toBe(2);
    vi.advanceTimersByTime(COMMIT_SLOT_INTERVAL_MS);
    expect((await onDisk(dir)).commit).toBe(4);
    // The interval has passed since that write: the next one is written at once again.
    vi.advanceTimersByTime(COMMIT_SLOT_INTERVAL_MS);
    hs.saveUnsynced?.({ term: 1, vote: 1, commit: 5 });
    expect((await onDisk(dir)).commit).toBe(5);
    await hs.close();
  });

  it("close writes the newest commit-only state still waiting", async () => {
    const dir = await fresh();
    const hs = await openFileHardState(dir);
    await hs.save({ term: 2, vote: 3, commit: 4 });
    for (let commit = 5; commit <= 9; commit++) hs.saveUnsynced?.({ term: 2, vote: 3, commit });
    await hs.close();
    expect(await onDisk(dir)).toEqual({ term: 2, vote: 3, commit: 9 });
  });
});
