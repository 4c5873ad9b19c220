// RaftStorage.persist keeps the core's persist order: at no moment does the durable log hold two
// membership changes beyond the durable commit index (a restart would otherwise use a
// configuration two changes old; see the core's persist-order.ts).
import { EMPTY_BYTES, type Entry, EntryType } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { MemoryVolume, openMemoryStores } from "./memory/index.js";
import { RaftStorage } from "./raft-storage.js";

function entry(index: number, type = EntryType.Normal): Entry {
  return { index, term: 1, type, data: EMPTY_BYTES };
}

/** Membership changes in the durable log past the durable commit index. */
function changesBeyondCommit(v: MemoryVolume): number {
  const commit = v.hardState?.commit ?? 0;
  return v.log.entries.filter((e) => e.index > commit && e.type === EntryType.ConfChange).length;
}

describe("RaftStorage.persist order", () => {
  it("makes the commit covering one membership change durable before the next change", async () => {
    const seen: number[] = [];
    const volume: MemoryVolume = new MemoryVolume({
      beforeWrite: () => {
        seen.push(changesBeyondCommit(volume));
      },
    });
    const rs = await RaftStorage.open(await openMemoryStores(volume));
    // One Ready: entries 1..5 with changes at 2 and 4, and a commit (5) covering both.
    const entries = [
      entry(1),
      entry(2, EntryType.ConfChange),
      entry(3),
      entry(4, EntryType.ConfChange),
      entry(5),
    ];
    await rs.persist({ entries, hardState: { term: 1, vote: 1, commit: 5 } });
    seen.push(changesBeyondCommit(volume));
    expect(seen.length).toBeGreaterThan(2);
    expect(Math.max(...seen)).toBeLessThanOrEqual(1);
    expect(volume.hardState?.commit).toBe(5);
    expect(volume.log.entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });
});
