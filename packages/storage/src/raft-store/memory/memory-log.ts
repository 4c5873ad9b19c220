// The memory log backend: the durable log lives in a MemoryVolume, so closing the store and
// opening another on the same volume is a restart that keeps everything "durable".
import type { Entry } from "@d-engine/core";
import { type CacheOptions, CachingLogStore } from "../caching-log-store.js";
import type { LogBackend, LogOp } from "../log-backend.js";
import type { LogStore } from "../log-store.js";
import type { MemoryVolume } from "./volume.js";

export function openMemoryLog(volume: MemoryVolume, options: CacheOptions = {}): LogStore {
  return new CachingLogStore(new MemoryLogBackend(volume), "memory log", {
    // Everything is in memory anyway; a small cache only makes sense to exercise the read path.
    cacheBytes: options.cacheBytes ?? Number.POSITIVE_INFINITY,
  });
}

class MemoryLogBackend implements LogBackend {
  readonly recovered;

  constructor(private readonly volume: MemoryVolume) {
    const { snapIndex, snapTerm, entries } = volume.log;
    this.recovered = { snapIndex, snapTerm, terms: entries.map((e) => e.term) };
  }

  async persist(ops: readonly LogOp[]): Promise<void> {
    await this.volume.beforeWrite("log");
    const log = this.volume.log;
    for (const op of ops) {
      switch (op.kind) {
        case "append": {
          const at = (op.entries[0] as Entry).index - log.snapIndex - 1;
          log.entries.length = at; // drops the replaced suffix, if any
          for (const e of op.entries) log.entries.push(e);
          break;
        }
        case "truncate":
          log.entries.length = Math.min(log.entries.length, op.from - log.snapIndex - 1);
          break;
        case "compact":
          log.entries = log.entries.slice(op.index - log.snapIndex);
          log.snapIndex = op.index;
          log.snapTerm = op.term;
          break;
        case "reset":
          log.entries = [];
          log.snapIndex = op.index;
          log.snapTerm = op.term;
          break;
      }
    }
  }

  readonly readDurable = (lo: number, hi: number): Entry[] => {
    const { snapIndex, entries } = this.volume.log;
    return entries.slice(lo - snapIndex - 1, hi - snapIndex - 1);
  };

  async close(): Promise<void> {}
}
