// The LMDB log backend. Each group of writes is one LMDB transaction (removals, puts and the
// compaction marker together), so a crash leaves the log as it was before or after a group:
// there is no torn tail to repair.
import { EMPTY_CONF_STATE, type Entry, entrySize } from "@d-engine/core";
import { type CacheOptions, CachingLogStore } from "../caching-log-store.js";
import {
  decodeEntry,
  decodeSnapshotMetadata,
  encodeEntry,
  encodeSnapshotMetadata,
} from "../codec.js";
import { StorageError } from "../errors.js";
import type { LogBackend, LogOp } from "../log-backend.js";
import type { LogStore } from "../log-store.js";
import type { RecoveredLog } from "../log-view.js";
import { COMPACTED_KEY, type LmdbEnv } from "./lmdb-env.js";

export function openLmdbLog(env: LmdbEnv, options: CacheOptions = {}): LogStore {
  return new CachingLogStore(new LmdbLogBackend(env), `LMDB log ${env.path}`, options);
}

class LmdbLogBackend implements LogBackend {
  readonly recovered: RecoveredLog;
  /** The first stored index (entries below were compacted away) and the last. */
  private first: number;
  private last: number;

  constructor(private readonly env: LmdbEnv) {
    const markerBytes = env.meta.getBinary(COMPACTED_KEY);
    const marker = markerBytes ? decodeSnapshotMetadata(markerBytes) : { index: 0, term: 0 };
    const terms: number[] = [];
    let expected = marker.index + 1;
    for (const { key, value } of env.entries.getRange({ start: expected })) {
      if (key !== expected) {
        throw new StorageError(
          "corrupt",
          `${env.path}: log entry ${expected} is missing (the next stored entry is ${key})`,
          env.path,
        );
      }
      const e = this.decode(value, key);
      terms.push(e.term);
      expected++;
    }
    this.recovered = { snapIndex: marker.index, snapTerm: marker.term, terms };
    this.first = marker.index + 1;
    this.last = expected - 1;
  }

  async persist(ops: readonly LogOp[]): Promise<void> {
    const { entries, meta } = this.env;
    await this.env.root.transaction(() => {
      const removeRange = (from: number, to: number): void => {
        for (let i = from; i <= to; i++) entries.removeSync(i);
      };
      for (const op of ops) {
        switch (op.kind) {
          case "append": {
            const from = (op.entries[0] as Entry).index;
            removeRange(from, this.last);
            for (const e of op.entries) entries.putSync(e.index, asBuffer(encodeEntry(e)));
            this.last = (op.entries[op.entries.length - 1] as Entry).index;
            break;
          }
          case "truncate":
            removeRange(op.from, this.last);
            this.last = Math.min(this.last, op.from - 1);
            break;
          case "compact":
            removeRange(this.first, op.index);
            this.first = op.index + 1;
            meta.putSync(COMPACTED_KEY, marker(op.index, op.term));
            break;
          case "reset":
            removeRange(this.first, this.last);
            this.first = op.index + 1;
            this.last = op.index;
            meta.putSync(COMPACTED_KEY, marker(op.index, op.term));
            break;
        }
      }
    });
    await this.env.flushed();
  }

  readonly readDurable = (lo: number, hi: number, maxBytes: number): Entry[] => {
    const out: Entry[] = [];
    let size = 0;
    for (let i = lo; i < hi && (out.length === 0 || size <= maxBytes); i++) {
      const bytes = this.env.entries.getBinaryFast(i);
      if (!bytes) {
        throw new StorageError(
          "corrupt",
          `${this.env.path}: log entry ${i} is missing`,
          this.env.path,
        );
      }
      const e = this.decode(bytes, i);
      out.push(e);
      size += entrySize(e);
    }
    return out;
  };

  async close(): Promise<void> {}

  private decode(bytes: Uint8Array, index: number): Entry {
    let e: Entry;
    try {
      e = decodeEntry(bytes);
    } catch (err) {
      throw new StorageError(
        "corrupt",
        `${this.env.path}: log entry ${index} does not decode: ${String(err)}`,
        this.env.path,
      );
    }
    if (e.index !== index) {
      throw new StorageError(
        "corrupt",
        `${this.env.path}: the entry stored under index ${index} holds index ${e.index}`,
        this.env.path,
      );
    }
    return e;
  }
}

function marker(index: number, term: number): Buffer {
  return asBuffer(encodeSnapshotMetadata({ index, term, confState: EMPTY_CONF_STATE }));
}

/** A Buffer view of the same bytes (lmdb-js binary values are Buffers). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}
