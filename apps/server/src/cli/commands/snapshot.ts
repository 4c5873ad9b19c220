// `d-engine snapshot save <file>`: a backup. The leader's newest snapshot (a fresh one with
// --fresh) is downloaded into a temporary file next to <file>, fsynced, then renamed over
// <file> and the directory fsynced: <file> is either the old one or the whole new snapshot,
// never a partial download, even after a crash. No deadline unless --timeout is given: a backup
// takes as long as it takes.
import { randomBytes } from "node:crypto";
import { open, rename, rm } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import type { Command } from "commander";
import type { ClientCommands } from "../client/run.js";
import { OperationError } from "../client/run.js";

export function registerSnapshot(program: Command, c: ClientCommands): void {
  const snapshot = c.group(program, "snapshot", "back up the key-value state");
  const save = c
    .command(snapshot, "save", "download the newest snapshot into a file (atomically)")
    .argument("<file>", "where to write it (replaced only once the download is complete)")
    .option("--fresh", "take a new snapshot first (default: the newest one, if any)");
  c.action(save, async (ctx, args, opts) => {
    const [file] = args as [string];
    const chunks = ctx.client().maintenance.downloadSnapshot({
      ...(opts.fresh ? { fresh: true } : {}),
      ...(ctx.globals.timeoutGiven ? { timeoutMs: ctx.globals.timeoutMs } : {}),
    });
    const bytes = await saveAtomically(file, chunks);
    if (ctx.globals.json) ctx.json({ file: resolve(file), bytes });
    else ctx.out(`saved snapshot to ${file} (${bytes} bytes)\n`);
    return;
  });
}

/** Writes the chunks to `file` atomically and durably; returns the byte count. */
export async function saveAtomically(
  file: string,
  chunks: AsyncIterable<Uint8Array>,
): Promise<number> {
  const target = resolve(file);
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.${randomBytes(6).toString("hex")}.tmp`);
  // 0600: a backup holds every key and value.
  const fh = await open(tmp, "wx", 0o600);
  let bytes = 0;
  try {
    try {
      for await (const chunk of chunks) {
        await fh.write(chunk);
        bytes += chunk.length;
      }
      if (bytes === 0)
        throw new OperationError("the server sent an empty snapshot", "empty-snapshot");
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, target);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDir(dir);
  return bytes;
}

/** fsyncs a directory so that a rename in it survives a crash. */
async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, "r");
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
