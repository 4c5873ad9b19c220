// RaftStorage.persist waits for a hard state's fsync only when the term or vote changes (or the
// step changes membership): a hard state that only moves the commit index is saved without
// holding up the Ready (etcd's MustSync rule), and a failure of such a save stops the next
// persist.
import { EMPTY_BYTES, type Entry, EntryType, type HardState } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import type { HardStateStore } from "./hard-state-store.js";
import { MemoryVolume, openMemoryStores } from "./memory/index.js";
import { RaftStorage } from "./raft-storage.js";

function entry(index: number, type = EntryType.Normal): Entry {
  return { index, term: 1, type, data: EMPTY_BYTES };
}

/** A hard-state store whose saves finish only when the test says so. */
class HeldHardState implements HardStateStore {
  current: HardState = { term: 0, vote: 0, commit: 0 };
  readonly pending: { hs: HardState; finish: (e?: Error) => void }[] = [];
  load(): HardState {
    return this.current;
  }
  save(hs: HardState): Promise<void> {
    this.current = hs;
    return new Promise((resolve, reject) => {
      this.pending.push({ hs, finish: (e) => (e ? reject(e) : resolve()) });
    });
  }
  async close(): Promise<void> {}
}

async function open(): Promise<{ rs: RaftStorage; held: HeldHardState }> {
  const stores = await openMemoryStores(new MemoryVolume());
  const held = new HeldHardState();
  const rs = await RaftStorage.open({ ...stores, hardState: held, close: () => stores.close() });
  return { rs, held };
}

/** Whether `p` settles before the microtask and immediate queues drain. */
async function settlesAtOnce(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((r) => setImmediate(r));
  return done;
}

describe("RaftStorage: commit-only hard states are not waited for", () => {
  it("waits for a new term or vote, not for a commit that moved", async () => {
    const { rs, held } = await open();
    const vote = rs.persist({ entries: [], hardState: { term: 2, vote: 1, commit: 0 } });
    expect(await settlesAtOnce(vote), "a vote is durable before persist resolves").toBe(false);
    held.pending[0]?.finish();
    await vote;

    await rs.persist({ entries: [entry(1)], hardState: { term: 2, vote: 1, commit: 0 } });
    const commit = rs.persist({ entries: [], hardState: { term: 2, vote: 1, commit: 1 } });
    expect(await settlesAtOnce(commit), "a commit-only save is not waited for").toBe(true);
    expect(held.pending.at(-1)?.hs.commit, "but it is saved").toBe(1);
  });

  it("waits for the commit when the step changes membership", async () => {
    const { rs, held } = await open();
    const p = rs.persist({
      entries: [entry(1, EntryType.ConfChange)],
      hardState: { term: 0, vote: 0, commit: 1 },
    });
    expect(await settlesAtOnce(p)).toBe(false);
    // Two steps (persistSteps), each waiting for its hard state.
    for (let i = 0; i < 2; i++) {
      held.pending[i]?.finish();
      expect(await settlesAtOnce(p)).toBe(i === 1);
    }
    await p;
  });

  it("a failed lazy save fails the next persist", async () => {
    const { rs, held } = await open();
    await rs.persist({ entries: [entry(1)] });
    await rs.persist({ entries: [], hardState: { term: 0, vote: 0, commit: 1 } });
    held.pending.at(-1)?.finish(new Error("disk on fire"));
    await new Promise((r) => setImmediate(r));
    await expect(rs.persist({ entries: [entry(2)] })).rejects.toThrow(/disk on fire/);
  });
});
