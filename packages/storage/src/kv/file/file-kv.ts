// The file backend: state in memory (the memory backend's tables), made durable by snapshot
// files plus the caller's log. open() loads the newest snapshot file; appliedIndex() then says
// which index it covers, and the caller replays its log from the next index. checkpoint()
// writes the current state to a new file (call it before compacting the log past the last one).
// A corrupt newest file is an error naming the file and offset; older files are kept (`retain`)
// so an operator can fall back by removing the bad one.

import { readFile } from "node:fs/promises";
import { KvEngine, type KvStateMachineOptions } from "../engine.js";
import { MemoryTables } from "../memory/memory-tables.js";
import { decodeSnapshot, type SnapshotSource } from "../snapshot-codec.js";
import {
  listSnapshotFiles,
  prepareDir,
  pruneSnapshotFiles,
  writeSnapshotFile,
} from "./snapshot-files.js";

export interface FileKvOptions extends KvStateMachineOptions {
  /** The directory of the snapshot files (created if missing). */
  readonly dir: string;
  /** How many snapshot files to keep (default 2, at least 1). */
  readonly retain?: number;
}

export interface Checkpoint {
  readonly index: number;
  readonly path: string;
  readonly bytes: number;
}

export class FileKv extends KvEngine {
  private constructor(private readonly opts: FileKvOptions) {
    super("file", new MemoryTables(), opts);
  }

  static async open(opts: FileKvOptions): Promise<FileKv> {
    await prepareDir(opts.dir);
    const kv = new FileKv(opts);
    const newest = (await listSnapshotFiles(opts.dir))[0];
    if (newest !== undefined) {
      kv.load(await decodeSnapshot(await readFile(newest.path), newest.path, true));
    }
    return kv;
  }

  /** Writes the current state to a snapshot file (atomically) and prunes old files. */
  async checkpoint(): Promise<Checkpoint> {
    // Read the state synchronously (applies may run while the file is written).
    const chunks = [...this.snapshot()];
    const index = this.appliedIndex();
    const { path, bytes } = await writeSnapshotFile(this.opts.dir, index, chunks);
    await pruneSnapshotFiles(this.opts.dir, this.opts.retain ?? 2);
    return { index, path, bytes };
  }

  /** Restores the state and makes it durable as a snapshot file. */
  override async restore(source: SnapshotSource): Promise<void> {
    await super.restore(source);
    await this.checkpoint();
  }
}

export function openFileKv(opts: FileKvOptions): Promise<FileKv> {
  return FileKv.open(opts);
}
