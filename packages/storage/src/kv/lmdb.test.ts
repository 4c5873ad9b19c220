import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { runConformance } from "./conformance.js";
import { openLmdbKv } from "./lmdb/lmdb-kv.js";
import type { KvStateMachine } from "./state-machine.js";

const root = await mkdtemp(join(tmpdir(), "dengine-kv-lmdb-"));
let n = 0;
const paths = new Map<KvStateMachine, string>();

function openAt(path: string): KvStateMachine {
  const sm = openLmdbKv({ path });
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
