// A BlobDir on a real directory. Installing follows the atomic write protocol: write to a
// temporary file, fsync it, rename it to its name, fsync the directory.
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { join } from "node:path";
import { fsyncDir, unlinkIfExists } from "../file/fs-util.js";
import type { BlobDir, BlobReader, BlobTemp } from "./blob-dir.js";

const TMP_SUFFIX = ".tmp";
let tmpCounter = 0;

export async function openFileBlobDir(dir: string): Promise<BlobDir> {
  await mkdir(dir, { recursive: true });
  return new FileBlobDir(dir);
}

class FileBlobDir implements BlobDir {
  constructor(readonly where: string) {}

  location(name: string): string {
    return join(this.where, name);
  }

  async list(): Promise<string[]> {
    return (await readdir(this.where)).filter((n) => !n.endsWith(TMP_SUFFIX));
  }

  async cleanup(): Promise<void> {
    const tmps = (await readdir(this.where)).filter((n) => n.endsWith(TMP_SUFFIX));
    for (const n of tmps) await unlinkIfExists(join(this.where, n));
    if (tmps.length > 0) await fsyncDir(this.where);
  }

  async open(name: string): Promise<BlobReader> {
    const fh = await open(join(this.where, name), "r");
    const { size } = await fh.stat();
    return {
      size,
      async read(offset: number, length: number): Promise<Uint8Array> {
        const n = Math.max(0, Math.min(length, size - offset));
        const buf = Buffer.allocUnsafe(n);
        let got = 0;
        while (got < n) {
          const { bytesRead } = await fh.read(buf, got, n - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      },
      close: () => fh.close(),
    };
  }

  async create(): Promise<BlobTemp> {
    const tmp = join(this.where, `incoming-${process.pid}-${++tmpCounter}${TMP_SUFFIX}`);
    const fh = await open(tmp, "w");
    let pos = 0;
    let open_ = true;
    const dir = this.where;
    return {
      async write(chunk: Uint8Array): Promise<void> {
        let done = 0;
        while (done < chunk.length) {
          const { bytesWritten } = await fh.write(chunk, done, chunk.length - done, pos + done);
          done += bytesWritten;
        }
        pos += chunk.length;
      },
      async commit(name: string): Promise<void> {
        await fh.sync();
        await fh.close();
        open_ = false;
        await rename(tmp, join(dir, name));
        await fsyncDir(dir);
      },
      async abort(): Promise<void> {
        if (open_) await fh.close();
        open_ = false;
        await unlinkIfExists(tmp);
      },
    };
  }

  async remove(name: string): Promise<void> {
    await unlink(join(this.where, name));
    await fsyncDir(this.where);
  }
}
