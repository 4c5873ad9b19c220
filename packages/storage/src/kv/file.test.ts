import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { b, Driver, dump, runConformance } from "./conformance.js";
import { type FileKv, openFileKv } from "./file/file-kv.js";
import { kvOps } from "./ops.js";
import type { KvStateMachine } from "./state-machine.js";

const root = await mkdtemp(join(tmpdir(), "dengine-kv-file-"));
let n = 0;
const dirs = new Map<KvStateMachine, string>();

async function openAt(dir: string): Promise<FileKv> {
  const sm = await openFileKv({ dir });
  dirs.set(sm, dir);
  return sm;
}

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

runConformance({
  name: "file",
  open: () => openAt(join(root, `dir-${n++}`)),
  persist: async (sm) => {
    await (sm as FileKv).checkpoint();
  },
  reopen: async (sm) => {
    const dir = dirs.get(sm) as string;
    await sm.close();
    return openAt(dir);
  },
});

describe("file backend specifics", () => {
  it("starts empty, then from the newest snapshot file; keeps `retain` files and no temporaries", async () => {
    const dir = join(root, `dir-${n++}`);
    const d = new Driver(await openAt(dir));
    expect(d.sm.appliedIndex()).toBe(0);
    d.put("a", "1");
    const c1 = await (d.sm as FileKv).checkpoint();
    expect(c1.index).toBe(1);
    d.put("a", "2");
    await (d.sm as FileKv).checkpoint();
    d.put("a", "3");
    const c3 = await (d.sm as FileKv).checkpoint();
    expect(c3.path).toMatch(/kv-0{19}3\.snap$/);
    expect((await readdir(dir)).sort()).toEqual([
      "kv-00000000000000000002.snap",
      "kv-00000000000000000003.snap",
    ]);
    d.put("a", "4");
    const state = dump(d.sm);
    await d.sm.close();
    // A crash mid-checkpoint leaves a temporary file: open() removes it.
    await writeFile(join(dir, "kv-00000000000000000009.snap.tmp"), "partial");
    d.sm = await openAt(dir);
    expect(d.sm.appliedIndex()).toBe(3);
    d.replay();
    expect(dump(d.sm)).toEqual(state);
    expect((await readdir(dir)).some((f) => f.endsWith(".tmp"))).toBe(false);
    await d.sm.close();
  });

  it("a corrupt newest snapshot file is an error naming the file and the offset", async () => {
    const dir = join(root, `dir-${n++}`);
    const d = new Driver(await openAt(dir));
    for (let i = 0; i < 20; i++) d.put(`k${i}`, "v".repeat(100));
    const { path } = await (d.sm as FileKv).checkpoint();
    await d.sm.close();
    const bytes = await readFile(path);
    bytes[bytes.length - 40] = (bytes[bytes.length - 40] as number) ^ 1;
    await writeFile(path, bytes);
    await expect(openAt(dir)).rejects.toThrow(
      new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: checksum mismatch .*offset \\d+`),
    );
  });

  it("restore() makes the restored state durable", async () => {
    const src = new Driver(await openAt(join(root, `dir-${n++}`)));
    src.applyOp(kvOps.put("x", "1"));
    src.applyOp(kvOps.put("y", "2"));
    const dir = join(root, `dir-${n++}`);
    const dst = await openAt(dir);
    await dst.restore(src.sm.snapshotBytes());
    await dst.close();
    const again = await openAt(dir);
    expect(again.appliedIndex()).toBe(2);
    expect(again.get(b("y"))?.value).toEqual(b("2"));
    await Promise.all([again.close(), src.sm.close()]);
  });
});
