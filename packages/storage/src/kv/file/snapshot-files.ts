// Snapshot files of the file backend: `kv-<applied index, 20 digits>.snap` in one directory,
// each a KV snapshot stream (snapshot-codec.ts: magic, checksummed frames, footer). Written
// atomically: a temporary file, fsync, rename, fsync of the directory, so a crash leaves either
// the old set of files or the new one, never a partial snapshot under a final name.

import { mkdir, open, readdir, rename, rm } from "node:fs/promises";
import { join } from "node:path";

const NAME = /^kv-(\d{20})\.snap$/;
const TEMP_SUFFIX = ".tmp";

export interface SnapshotFile {
  readonly index: number;
  readonly path: string;
}

export function snapshotFileName(index: number): string {
  return `kv-${String(index).padStart(20, "0")}.snap`;
}

/** The snapshot files in `dir`, newest (highest index) first. */
export async function listSnapshotFiles(dir: string): Promise<SnapshotFile[]> {
  const out: SnapshotFile[] = [];
  for (const name of await readdir(dir)) {
    const m = NAME.exec(name);
    if (m?.[1] !== undefined) out.push({ index: Number(m[1]), path: join(dir, name) });
  }
  return out.sort((a, b) => b.index - a.index);
}

async function fsyncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

/** Creates `dir` if needed and removes temporary files a crash left behind. */
export async function prepareDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const name of await readdir(dir)) {
    if (name.endsWith(TEMP_SUFFIX)) await rm(join(dir, name), { force: true });
  }
}

/** Writes a snapshot file atomically and durably; returns its path and size. */
export async function writeSnapshotFile(
  dir: string,
  index: number,
  chunks: readonly Uint8Array[],
): Promise<{ path: string; bytes: number }> {
  const path = join(dir, snapshotFileName(index));
  const tmp = path + TEMP_SUFFIX;
  const fh = await open(tmp, "w");
  let bytes = 0;
  try {
    for (const c of chunks) {
      await fh.write(c);
      bytes += c.length;
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dir);
  return { path, bytes };
}

/** Deletes all but the newest `retain` snapshot files. */
export async function pruneSnapshotFiles(dir: string, retain: number): Promise<void> {
  const files = await listSnapshotFiles(dir);
  for (const f of files.slice(Math.max(1, retain))) await rm(f.path, { force: true });
  if (files.length > retain) await fsyncDir(dir);
}
