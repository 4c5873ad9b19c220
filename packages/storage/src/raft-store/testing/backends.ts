// The three backends as the conformance suite, the cross-backend test and the benchmark open
// them: a fresh place (a temporary directory or a memory volume) that can be opened repeatedly.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SILENT_LOGGER } from "@d-engine/core";
import { openFileStores } from "../file/index.js";
import { openLmdbStores } from "../lmdb/index.js";
import { MemoryVolume, openMemoryStores } from "../memory/index.js";
import type { RaftStores } from "../stores.js";

export interface StoreOptions {
  /** Payload bytes of durable entries kept in memory (small values exercise backend reads). */
  readonly cacheBytes?: number;
  readonly keepOld?: number;
  /** File backend only (default here 16 KiB, to cross segment boundaries often). */
  readonly segmentBytes?: number;
}

export interface StorePlace {
  /** Where the stores live (a directory, or "memory"). */
  readonly where: string;
  /** Opens the stores; opening again after close() is a restart. */
  open(options?: StoreOptions): Promise<RaftStores>;
  /** Deletes everything. */
  dispose(): Promise<void>;
}

export interface BackendFactory {
  readonly name: string;
  place(): Promise<StorePlace>;
}

async function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `dengine-${prefix}-`));
}

export const memoryBackend: BackendFactory = {
  name: "memory",
  async place() {
    const volume = new MemoryVolume();
    return {
      where: "memory",
      open: (o = {}) => openMemoryStores(volume, o),
      dispose: async () => {},
    };
  },
};

/**
 * File stores in `dir` for tests, silent. `inline`: every log write goes out from the calling
 * thread (LogStore.setInlineWriteBytes, as a follower writes its small appends), under the same
 * contract.
 */
export async function openTestFileStores(
  dir: string,
  options: StoreOptions & { readonly segmentBytes: number },
  inline: boolean,
): Promise<RaftStores> {
  const stores = await openFileStores(dir, { ...options, logger: SILENT_LOGGER });
  if (inline) stores.log.setInlineWriteBytes(Number.MAX_SAFE_INTEGER);
  return stores;
}

/** The file backend in a fresh temporary directory (see openTestFileStores for `inline`). */
function fileFactory(name: string, inline: boolean): BackendFactory {
  return {
    name,
    async place() {
      const dir = await tempDir(inline ? "file-inline" : "file");
      return {
        where: dir,
        // Small segments by default, so that tests cross segment boundaries all the time.
        open: (o = {}) => openTestFileStores(dir, { segmentBytes: 16 * 1024, ...o }, inline),
        dispose: () => rm(dir, { recursive: true, force: true }),
      };
    },
  };
}

export const fileBackend = fileFactory("file", false);
export const fileInlineBackend = fileFactory("file (inline writes)", true);

export const lmdbBackend: BackendFactory = {
  name: "lmdb",
  async place() {
    const dir = await tempDir("lmdb");
    return {
      where: dir,
      open: (o = {}) => openLmdbStores(dir, o),
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
};

export const ALL_BACKENDS: readonly BackendFactory[] = [memoryBackend, fileBackend, lmdbBackend];
