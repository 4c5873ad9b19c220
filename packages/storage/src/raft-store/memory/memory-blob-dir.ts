// A BlobDir in a MemoryVolume: a blob becomes visible only on commit, like a renamed file.
import type { BlobDir, BlobReader, BlobTemp } from "../snapshot/blob-dir.js";
import type { MemoryVolume } from "./volume.js";

export class MemoryBlobDir implements BlobDir {
  readonly where = "memory";

  constructor(private readonly volume: MemoryVolume) {}

  location(name: string): string {
    return `memory:${name}`;
  }

  async list(): Promise<string[]> {
    return [...this.volume.blobs.keys()];
  }

  async cleanup(): Promise<void> {}

  async open(name: string): Promise<BlobReader> {
    const blob = this.volume.blobs.get(name);
    if (!blob) throw new Error(`memory:${name} does not exist`);
    return {
      size: blob.length,
      read: async (offset, length) => blob.slice(offset, offset + length),
      close: async () => {},
    };
  }

  async create(): Promise<BlobTemp> {
    const parts: Uint8Array[] = [];
    const volume = this.volume;
    return {
      async write(chunk) {
        parts.push(chunk.slice());
      },
      async commit(name) {
        await volume.beforeWrite("snapshot");
        const total = parts.reduce((n, p) => n + p.length, 0);
        const blob = new Uint8Array(total);
        let pos = 0;
        for (const p of parts) {
          blob.set(p, pos);
          pos += p.length;
        }
        volume.blobs.set(name, blob);
      },
      async abort() {
        parts.length = 0;
      },
    };
  }

  async remove(name: string): Promise<void> {
    this.volume.blobs.delete(name);
  }
}
