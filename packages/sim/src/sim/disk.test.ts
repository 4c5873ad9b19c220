import { type Entry, EntryType, isRaftError } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { LogImage, SimDisk } from "./disk.js";
import { SimRng } from "./rng.js";

function entry(index: number, term: number): Entry {
  return { index, term, type: EntryType.Normal, data: Uint8Array.of(index, term) };
}

function terms(img: LogImage): number[] {
  const out: number[] = [];
  for (let i = img.firstIndex(); i <= img.lastIndex(); i++) out.push(img.term(i));
  return out;
}

describe("disk", () => {
  it("shows pending writes to the node at once and keeps them only after fsync", () => {
    const disk = new SimDisk(new LogImage());
    disk.write({ kind: "entry", entry: entry(1, 1) });
    expect(disk.view.lastIndex()).toBe(1);
    expect(disk.durable.lastIndex()).toBe(0);
    disk.fsync();
    expect(disk.durable.lastIndex()).toBe(1);
    disk.write({ kind: "entry", entry: entry(2, 1) });
    // A crash right after an fsync-less write may keep it or not, but never loses synced data.
    disk.crash(new SimRng(1));
    expect(disk.durable.lastIndex()).toBeGreaterThanOrEqual(1);
    expect(disk.view.lastIndex()).toBe(disk.durable.lastIndex());
  });

  it("a crash keeps a random prefix of the pending writes (torn writes)", () => {
    const kept = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const disk = new SimDisk(new LogImage());
      for (let i = 1; i <= 3; i++) disk.write({ kind: "entry", entry: entry(i, 1) });
      disk.fsync();
      // One Ready: entries 4..7, then the hard state that commits them.
      for (let i = 4; i <= 7; i++) disk.write({ kind: "entry", entry: entry(i, 2) });
      disk.write({ kind: "hardState", hs: { term: 2, vote: 1, commit: 7 } });
      const report = disk.crash(new SimRng(seed));
      const last = disk.durable.lastIndex();
      kept.add(report.kept);
      // A prefix: entries 1..last all present and nothing after; hard state only if all came first.
      expect(last).toBe(3 + Math.min(report.kept, 4));
      expect(terms(disk.durable)).toEqual([1, 1, 1, 2, 2, 2, 2].slice(0, last));
      expect(disk.durable.hardState.commit).toBe(report.kept === 5 ? 7 : 0);
      expect(disk.view.lastIndex()).toBe(last);
    }
    expect(kept.size).toBe(6); // every prefix length 0..5 happened
  });

  it("a torn truncation leaves either the old suffix or a prefix of the new one", () => {
    for (let seed = 1; seed <= 50; seed++) {
      const disk = new SimDisk(new LogImage());
      for (let i = 1; i <= 5; i++) disk.write({ kind: "entry", entry: entry(i, 1) });
      disk.fsync();
      // A new leader's entries replace 3..5 with 3..4 of term 2.
      disk.write({ kind: "entry", entry: entry(3, 2) });
      disk.write({ kind: "entry", entry: entry(4, 2) });
      expect(terms(disk.view)).toEqual([1, 1, 2, 2]);
      const { kept } = disk.crash(new SimRng(seed));
      expect(terms(disk.durable)).toEqual(
        kept === 0 ? [1, 1, 1, 1, 1] : kept === 1 ? [1, 1, 2] : [1, 1, 2, 2],
      );
    }
  });

  it("snapshots, compaction and what a restart reads", () => {
    const img = new LogImage();
    for (let i = 1; i <= 10; i++) img.apply({ kind: "entry", entry: entry(i, 1) });
    const cs = {
      voters: [1],
      learners: [],
      votersOutgoing: [],
      learnersNext: [],
      autoLeave: false,
    };
    img.apply({
      kind: "localSnapshot",
      snap: { metadata: { index: 8, term: 1, confState: cs }, data: Uint8Array.of(1) },
    });
    img.apply({ kind: "compact", index: 6 });
    expect(img.firstIndex()).toBe(7);
    expect(img.lastIndex()).toBe(10);
    expect(img.snapIndex).toBe(8);
    expect(() => img.apply({ kind: "compact", index: 9 })).toThrow(/past the snapshot/);
    expect(() => img.entries(6, 8, 1000)).toThrow(/compacted/);
    expect(img.entries(7, 11, 1000).map((e) => e.index)).toEqual([7, 8, 9, 10]);
    // A snapshot vouches for its index being committed even if the hard state was torn away.
    expect(img.initialState().hardState.commit).toBe(8);
    // The membership comes from the newest of checkpoint and snapshot.
    const cs2 = { ...cs, voters: [1, 2] };
    img.apply({ kind: "checkpoint", cp: { applied: 9, data: Uint8Array.of(), confState: cs2 } });
    expect(img.initialState().confState.voters).toEqual([1, 2]);
    // A leader's snapshot replaces the log.
    img.apply({
      kind: "snapshot",
      snap: { metadata: { index: 20, term: 3, confState: cs }, data: Uint8Array.of() },
    });
    expect([img.firstIndex(), img.lastIndex(), img.term(20)]).toEqual([21, 20, 3]);
    expect(img.initialState().confState.voters).toEqual([1]);
  });

  it("refuses to hand out a snapshot older than the running node wants", () => {
    const img = new LogImage();
    let asked = 0;
    img.minSnapshotIndex = 3;
    img.onStaleSnapshot = () => asked++;
    let err: unknown;
    try {
      img.snapshot();
    } catch (e) {
      err = e;
    }
    expect(isRaftError(err, "snapshot-temporarily-unavailable")).toBe(true);
    expect(asked).toBe(1);
    // Clones (what survives a crash) carry no such wish.
    expect(img.clone().snapshot().metadata.index).toBe(0);
  });
});
