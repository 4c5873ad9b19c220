// The SnapshotStore of every backend, over a BlobDir. Snapshots are named by index
// (snap-<20 digits>.snap); their headers are read and verified at open so list() and latest()
// answer synchronously; data checksums are verified whenever data is read or streamed.
import type { SnapshotMetadata } from "@d-engine/core";
import { StorageError } from "../errors.js";
import { pad20 } from "../file/fs-util.js";
import type {
  LoadedSnapshot,
  SnapshotInfo,
  SnapshotStore,
  SnapshotWriter,
} from "../snapshot-store.js";
import type { BlobDir, BlobTemp } from "./blob-dir.js";
import {
  decodeHeader,
  encodeSnapshot,
  FIXED_HEADER_BYTES,
  headerLength,
  SnapshotVerifier,
  TRAILER_BYTES,
} from "./format.js";

export interface SnapshotStoreOptions {
  /** Snapshots kept besides the newest one (default 2). Older ones are deleted after a save. */
  readonly keepOld?: number;
  /** Chunk size of chunks() when none is given (default 1 MiB). */
  readonly chunkBytes?: number;
}

const NAME = /^snap-(\d{20})\.snap$/;
export const snapshotName = (index: number): string => `snap-${pad20(index)}.snap`;

export async function openBlobSnapshotStore(
  dir: BlobDir,
  options: SnapshotStoreOptions = {},
): Promise<SnapshotStore> {
  await dir.cleanup();
  const infos: SnapshotInfo[] = [];
  for (const name of await dir.list()) {
    if (!NAME.test(name)) continue;
    infos.push(await readInfo(dir, name));
  }
  return new BlobSnapshotStore(dir, infos, options);
}

/** Reads and verifies a stored snapshot's header and checks the blob's size against it. */
async function readInfo(dir: BlobDir, name: string): Promise<SnapshotInfo> {
  const where = dir.location(name);
  const r = await dir.open(name);
  try {
    const fixed = await r.read(0, FIXED_HEADER_BYTES);
    const need = headerLength(fixed, where);
    if (need === undefined) {
      throw new StorageError(
        "corrupt",
        `${where}: ${r.size} bytes, too short for a snapshot`,
        where,
        0,
      );
    }
    const h = decodeHeader(await r.read(0, need), where);
    if (r.size !== h.encodedBytes) {
      throw new StorageError(
        "corrupt",
        `${where}: ${r.size} bytes, but its header says ${h.encodedBytes}`,
        where,
        Math.min(r.size, h.encodedBytes),
      );
    }
    const trailer = await r.read(h.encodedBytes - TRAILER_BYTES, TRAILER_BYTES);
    const dataCrc = new DataView(trailer.buffer, trailer.byteOffset, 4).getUint32(0, true);
    return {
      metadata: h.metadata,
      dataBytes: h.dataBytes,
      encodedBytes: h.encodedBytes,
      dataCrc,
      location: where,
    };
  } finally {
    await r.close();
  }
}

class BlobSnapshotStore implements SnapshotStore {
  private infos: SnapshotInfo[];
  private readonly keepOld: number;
  private readonly chunkBytes: number;
  private closed = false;

  constructor(
    private readonly dir: BlobDir,
    infos: SnapshotInfo[],
    options: SnapshotStoreOptions,
  ) {
    this.infos = sortNewestFirst(infos);
    this.keepOld = options.keepOld ?? 2;
    this.chunkBytes = options.chunkBytes ?? 1024 * 1024;
    if (!Number.isInteger(this.keepOld) || this.keepOld < 0) {
      throw new StorageError(
        "invalid-argument",
        `keepOld must be an integer >= 0, got ${this.keepOld}`,
      );
    }
  }

  list(): readonly SnapshotInfo[] {
    return this.infos;
  }

  latest(): SnapshotInfo | undefined {
    return this.infos[0];
  }

  async save(metadata: SnapshotMetadata, data: Uint8Array): Promise<SnapshotInfo> {
    this.checkOpen();
    const w = this.writer();
    try {
      for (const part of encodeSnapshot(metadata, data)) await w.write(part);
    } catch (e) {
      await w.abort();
      throw e;
    }
    return w.finish();
  }

  async load(index: number): Promise<LoadedSnapshot> {
    const info = this.find(index);
    const name = snapshotName(index);
    const r = await this.dir.open(name);
    let bytes: Uint8Array;
    try {
      bytes = await r.read(0, r.size);
    } finally {
      await r.close();
    }
    const v = new SnapshotVerifier(info.location);
    v.update(bytes);
    const { header } = v.finish();
    return {
      metadata: header.metadata,
      // A plain Uint8Array view (the file backend reads into a Buffer), the same type everywhere.
      data: new Uint8Array(bytes.buffer, bytes.byteOffset + header.headerBytes, header.dataBytes),
    };
  }

  async loadLatest(): Promise<LoadedSnapshot | undefined> {
    const latest = this.latest();
    return latest ? this.load(latest.metadata.index) : undefined;
  }

  async *chunks(index: number, chunkBytes = this.chunkBytes): AsyncIterable<Uint8Array> {
    const info = this.find(index);
    const r = await this.dir.open(snapshotName(index));
    try {
      const v = new SnapshotVerifier(info.location);
      for (let pos = 0; pos < r.size; pos += chunkBytes) {
        const chunk = await r.read(pos, chunkBytes);
        v.update(chunk);
        // The last chunk is held back until the checksum is verified, so a receiver never gets a
        // complete stream of damaged data.
        if (pos + chunkBytes >= r.size) v.finish();
        yield chunk;
      }
    } finally {
      await r.close();
    }
  }

  writer(): SnapshotWriter {
    this.checkOpen();
    const verifier = new SnapshotVerifier("incoming snapshot");
    let temp: Promise<BlobTemp> | undefined;
    let done = false;
    let written: Promise<void> = Promise.resolve();
    const getTemp = (): Promise<BlobTemp> => {
      temp ??= this.dir.create();
      return temp;
    };
    return {
      write: (chunk: Uint8Array): Promise<void> => {
        if (done) {
          return Promise.reject(
            new StorageError("invalid-argument", "snapshot writer already finished"),
          );
        }
        try {
          verifier.update(chunk);
        } catch (e) {
          return Promise.reject(e);
        }
        // Chained, so that chunks land in call order even if the caller does not await each.
        written = written.then(async () => (await getTemp()).write(chunk));
        return written;
      },
      finish: async (): Promise<SnapshotInfo> => {
        if (done) throw new StorageError("invalid-argument", "snapshot writer already finished");
        done = true;
        await written;
        const t = await getTemp();
        let header: ReturnType<SnapshotVerifier["finish"]>;
        try {
          header = verifier.finish();
        } catch (e) {
          await t.abort();
          throw e;
        }
        const index = header.header.metadata.index;
        const name = snapshotName(index);
        await t.commit(name);
        const info: SnapshotInfo = {
          metadata: header.header.metadata,
          dataBytes: header.header.dataBytes,
          encodedBytes: header.header.encodedBytes,
          dataCrc: header.dataCrc,
          location: this.dir.location(name),
        };
        this.infos = sortNewestFirst([
          info,
          ...this.infos.filter((i) => i.metadata.index !== index),
        ]);
        await this.enforceRetention();
        return info;
      },
      abort: async (): Promise<void> => {
        done = true;
        if (temp) await (await temp).abort();
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  private async enforceRetention(): Promise<void> {
    const drop = this.infos.slice(1 + this.keepOld);
    this.infos = this.infos.slice(0, 1 + this.keepOld);
    for (const info of drop) await this.dir.remove(snapshotName(info.metadata.index));
  }

  private find(index: number): SnapshotInfo {
    const info = this.infos.find((i) => i.metadata.index === index);
    if (!info) {
      const have = this.infos.map((i) => i.metadata.index).join(", ") || "none";
      throw new StorageError(
        "snapshot-not-found",
        `${this.dir.where}: no snapshot at index ${index} (stored: ${have})`,
      );
    }
    return info;
  }

  private checkOpen(): void {
    if (this.closed) throw new StorageError("closed", `snapshot store ${this.dir.where} is closed`);
  }
}

function sortNewestFirst(infos: SnapshotInfo[]): SnapshotInfo[] {
  return [...infos].sort((a, b) => b.metadata.index - a.metadata.index);
}
