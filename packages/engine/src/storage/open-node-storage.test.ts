import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { confChange, decodeConfChange, EntryType } from "@d-engine/core";
import { encodeKvCommand, openFileStores } from "@d-engine/storage";
import { describe, expect, it } from "vitest";
import { decodeMemberContext } from "../membership/address-book.js";
import { resolveOptions } from "../options.js";
import { bootstrapEntries, openNodeStorage, StartupError } from "./open-node-storage.js";

const EMPTY = new Uint8Array(0);

const opts = (o: Record<string, unknown>) =>
  resolveOptions({
    nodeId: 1,
    clusterId: "c",
    address: "a:1",
    peerTransport: () => {
      throw new Error("unused");
    },
    ...o,
  });

describe("bootstrap", () => {
  it("writes one AddNode entry per initial voter at term 1, the same on every node", () => {
    const a = bootstrapEntries([
      { id: 3, address: "c:1" },
      { id: 1, address: "a:1" },
    ]);
    const b = bootstrapEntries([
      { id: 1, address: "a:1" },
      { id: 3, address: "c:1" },
    ]);
    expect(a).toEqual(b);
    expect(a.map((e) => [e.index, e.term])).toEqual([
      [1, 1],
      [2, 1],
    ]);
    const cc = decodeConfChange((a[1] as { data: Uint8Array }).data);
    expect(cc.changes).toEqual(confChange.addNode(3).changes);
    expect(decodeMemberContext(cc.context)).toEqual({ address: "c:1" });
  });

  it("a new node commits its bootstrap entries; a joining node starts empty", async () => {
    const fresh = await openNodeStorage(opts({ initialMembers: [{ id: 1, address: "a:1" }] }));
    expect(fresh.bootstrapped).toBe(true);
    expect(fresh.stores.log.lastIndex()).toBe(1);
    expect(fresh.stores.hardState.load()).toEqual({ term: 1, vote: 0, commit: 1 });
    await fresh.stores.close();
    const joiner = await openNodeStorage(opts({ join: true }));
    expect(joiner.bootstrapped).toBe(false);
    expect(joiner.stores.log.lastIndex()).toBe(0);
    await joiner.stores.close();
  });

  it("a node with no state, no members and no join refuses to start", async () => {
    await expect(openNodeStorage(opts({}))).rejects.toBeInstanceOf(StartupError);
  });
});

describe("an interrupted bootstrap", () => {
  it("is done again when the log holds only bootstrap entries and no hard state", async () => {
    const dir = await mkdtemp(join(tmpdir(), "d-engine-bootstrap-"));
    try {
      const members = [
        { id: 1, address: "a:1" },
        { id: 2, address: "b:1" },
        { id: 3, address: "c:1" },
      ];
      // A crash after the first bootstrap entry reached the disk, before the hard state did.
      const raft = await openFileStores(join(dir, "raft"));
      await raft.log.append(bootstrapEntries(members).slice(0, 1));
      await raft.close();
      const again = await openNodeStorage(opts({ dataDir: dir, initialMembers: members }));
      expect(again.bootstrapped).toBe(true);
      expect(again.stores.log.lastIndex()).toBe(3);
      expect(again.stores.hardState.load().commit).toBe(3);
      await again.stores.close();
      await again.kv.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("a state machine ahead of the saved commit index", () => {
  const members = [{ id: 1, address: "a:1" }];
  const put = (index: number) => ({
    index,
    command: encodeKvCommand({ op: { type: "put", key: Uint8Array.of(index), value: EMPTY } }),
  });

  it("raises the commit index to what was applied when the log holds it (commit saved lazily)", async () => {
    const dir = await mkdtemp(join(tmpdir(), "d-engine-commit-lag-"));
    try {
      const first = await openNodeStorage(opts({ dataDir: dir, initialMembers: members }));
      await first.stores.log.append(
        [2, 3].map((index) => ({
          index,
          term: 1,
          type: EntryType.Normal,
          data: put(index).command,
        })),
      );
      first.kv.applyBatch([put(2), put(3)]);
      await first.stores.close();
      await first.kv.close();
      const again = await openNodeStorage(opts({ dataDir: dir, initialMembers: members }));
      expect(again.stores.hardState.load()).toEqual({ term: 1, vote: 0, commit: 3 });
      await again.stores.close();
      await again.kv.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("refuses to start when the state machine is past the end of the log", async () => {
    const dir = await mkdtemp(join(tmpdir(), "d-engine-commit-lag-"));
    try {
      const first = await openNodeStorage(opts({ dataDir: dir, initialMembers: members }));
      first.kv.applyBatch([put(5)]);
      await first.stores.close();
      await first.kv.close();
      await expect(
        openNodeStorage(opts({ dataDir: dir, initialMembers: members })),
      ).rejects.toThrow(/past the end of the log/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
