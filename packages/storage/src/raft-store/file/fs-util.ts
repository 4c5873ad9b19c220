// The filesystem steps the file backend's crash safety rests on.
import { open, rename, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * Makes the directory's entries durable: a created, renamed or deleted file is only durably
 * there (or gone) once its directory has been fsynced.
 */
export async function fsyncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Replaces `path` with `bytes` so that a crash leaves either the old or the new content, never a
 * mix: write a temporary file, fsync it, rename it over `path`, fsync the directory.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = `${path}.tmp`;
  const fh = await open(tmp, "w");
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(tmp, path);
  await fsyncDir(dirname(path));
}

/** Deletes `path` if it exists. */
export async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
  }
}

/** A 20-digit zero-padded decimal, so that file names sort like the numbers they carry. */
export function pad20(n: number): string {
  return String(n).padStart(20, "0");
}
