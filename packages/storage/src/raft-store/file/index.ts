// The file backend. Layout of a node's directory:
//   log/          segment files and the compaction marker (file-log.ts)
//   hardstate     two checksummed slots (file-hard-state.ts)
//   snapshots/    snap-<index>.snap files (snapshot/format.ts)
import { join } from "node:path";
import type { Logger } from "@d-engine/core";
import {
  openBlobSnapshotStore,
  type SnapshotStoreOptions,
} from "../snapshot/blob-snapshot-store.js";
import { openFileBlobDir } from "../snapshot/file-blob-dir.js";
import { bundle, type RaftStores } from "../stores.js";
import { openFileHardState } from "./file-hard-state.js";
import { type FileLogOptions, openFileLog } from "./file-log.js";

export { openFileHardState } from "./file-hard-state.js";
export { DEFAULT_SEGMENT_BYTES, type FileLogOptions, openFileLog } from "./file-log.js";

export interface FileStoresOptions extends FileLogOptions, SnapshotStoreOptions {
  readonly logger?: Logger;
}

export async function openFileStores(
  dir: string,
  options: FileStoresOptions = {},
): Promise<RaftStores> {
  const log = await openFileLog(join(dir, "log"), options);
  try {
    const hardState = await openFileHardState(dir);
    const snapshots = await openBlobSnapshotStore(
      await openFileBlobDir(join(dir, "snapshots")),
      options,
    );
    return bundle(log, hardState, snapshots, []);
  } catch (e) {
    await log.close();
    throw e;
  }
}
