// The file log backend: entries in segment files (segment-format.ts), the compaction point in a
// small checksummed marker file. Recovery rules, applied on open:
//   * a damaged record at the end of the last segment, with nothing valid after it, is a torn
//     write: it is cut off with a warning (it was never reported durable);
//   * any other damaged record refuses to open, naming the file and byte offset;
//   * segments must follow each other without a hole; a missing one refuses to open, naming it;
//   * segments wholly at or below the compaction marker are leftovers of a compaction that
//     crashed half-way and are deleted;
//   * a log that ends before the marker, or disagrees with the marker's term, is refused;
//   * zeros after the last record are space written ahead (below), the segment's clean end.
//
// Preallocation: the last segment is extended with zeros, PREALLOCATE_BYTES at a time, before
// records reach its end, so an append overwrites space the file already has instead of growing
// it. A growing O_DSYNC write must also make the new file size durable: on the benchmark
// machine's ext4, which runs without a journal (the kernel's fsync path there is
// ext4_fsync_nojournal), the inode itself is written, a second device write per append (with a
// journal it would be a journal commit); an overwrite is a data write. etcd preallocates its WAL segments for the same reason (with fallocate, which Node
// lacks: here every byte of the log is written twice, zeros then records, in 1 MiB zero writes
// that one append in ~3,000 waits for). Measured in docs/benchmarks.md (session 13): 8-10% more
// single-client writes a second. Zeros are never records (segment-format.ts), so recovery
// stops at them; a segment is trimmed to its records before the next one starts, and truncation
// cuts the file itself, so records of a discarded suffix can never reappear after a restart.

import { constants, readSync, writevSync } from "node:fs";
import { type FileHandle, mkdir, open, readdir, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { EMPTY_CONF_STATE, type Entry, entrySize, type Logger } from "@d-engine/core";
import { type CacheOptions, CachingLogStore } from "../caching-log-store.js";
import { decodeSnapshotMetadata, encodeSnapshotMetadata } from "../codec.js";
import { StorageError } from "../errors.js";
import type { LogBackend, LogOp } from "../log-backend.js";
import type { LogStore } from "../log-store.js";
import type { RecoveredLog } from "../log-view.js";
import { STDERR_LOGGER } from "../logger.js";
import { decodeBlob, encodeBlob } from "./checksummed-blob.js";
import { fsyncDir, unlinkIfExists, writeFileAtomic } from "./fs-util.js";
import {
  decodeRecord,
  encodeRecords,
  parseSegmentName,
  SEGMENT_HEADER_BYTES,
  SEGMENT_MAGIC,
  scanSegment,
  segmentName,
} from "./segment-format.js";

// Segments are written with O_DSYNC: each write returns once its data is on disk, the same
// guarantee as a write followed by fdatasync, in one system call and one trip through libuv's
// thread pool instead of two. On a 2-core machine each hand-off to the pool is a context switch
// the event loop waits for (docs/benchmarks.md); writes within setInlineWriteBytes's limit (a
// follower's small appends) skip the pool altogether. Truncation still sets `dirty` and is fsynced.
// Where the platform has no O_DSYNC (Windows), every write marks the segment dirty instead and
// the fdatasync after it does the work.
const O_DSYNC: number = constants.O_DSYNC ?? 0;
const WRITES_ARE_DURABLE = O_DSYNC !== 0;
const SEGMENT_OPEN_EXISTING = constants.O_RDWR | O_DSYNC;
const SEGMENT_OPEN_NEW = constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC | O_DSYNC;

export interface FileLogOptions extends CacheOptions {
  /** A new segment is started once the current one reaches this size (default 64 MiB). */
  readonly segmentBytes?: number;
  readonly logger?: Logger;
}

export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
/** How far past the records the last segment is extended with zeros (see the header). */
export const PREALLOCATE_BYTES = 1024 * 1024;
/** The zeros written ahead, shared (never written to). */
let zeroChunk: Buffer | undefined;
/** The compaction marker: the index and term of the last compacted entry. */
export const MARKER_FILE = "compacted.meta";
const MARKER_MAGIC = 0x4d434c44; // "DLCM"
/** Reads of old entries fetch at most this many bytes per read call (at least one record). */
const READ_CHUNK_BYTES = 1024 * 1024;

interface Segment {
  readonly first: number;
  readonly path: string;
  readonly fh: FileHandle;
  /** File offsets of the records; record i holds entry first + i. */
  readonly offsets: number[];
  /** Bytes of records written to the file (records queued in memory are not counted). */
  size: number;
  /** The file's length: `size` plus the zeros written ahead of the records. */
  allocated: number;
  /** Written since the last fsync. */
  dirty: boolean;
}

/** Opens (creating if needed) the file log in `dir`, recovering it as described above. */
export async function openFileLog(dir: string, options: FileLogOptions = {}): Promise<LogStore> {
  const backend = await FileLogBackend.open(dir, options);
  return new CachingLogStore(backend, `file log ${dir}`, options);
}

class FileLogBackend implements LogBackend {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dirChanged = false;
  /** Writes up to this size go out synchronously (LogStore.setInlineWriteBytes); 0: none. */
  private inlineWriteBytes = 0;

  private constructor(
    private readonly dir: string,
    private readonly segments: Segment[],
    /** The last index on disk (or queued for the current segment). */
    private last: number,
    readonly recovered: RecoveredLog,
    private readonly segmentBytes: number,
  ) {}

  static async open(dir: string, options: FileLogOptions): Promise<FileLogBackend> {
    const logger = options.logger ?? STDERR_LOGGER;
    await mkdir(dir, { recursive: true });
    const names = await readdir(dir);
    for (const n of names) if (n.endsWith(".tmp")) await unlinkIfExists(join(dir, n));
    const markerPath = join(dir, MARKER_FILE);
    let marker = { index: 0, term: 0 };
    if (names.includes(MARKER_FILE)) {
      const m = decodeSnapshotMetadata(
        decodeBlob(MARKER_MAGIC, await readFile(markerPath), markerPath),
      );
      marker = { index: m.index, term: m.term };
    }
    const found = names
      .map((n) => ({ name: n, first: parseSegmentName(n) }))
      .filter((s): s is { name: string; first: number } => s.first !== undefined)
      .sort((a, b) => a.first - b.first);
    // Leftovers of an interrupted compaction: every entry of these is at or below the marker.
    // They are deleted once the rest has been checked against the marker.
    const leftovers: string[] = [];
    while (found.length >= 2 && (found[1] as { first: number }).first - 1 <= marker.index) {
      leftovers.push((found.shift() as { name: string }).name);
    }
    const head = found[0];
    if (head && head.first > marker.index + 1) {
      throw new StorageError(
        "missing-segment",
        `${dir}: missing segment ${segmentName(marker.index + 1)}: the log is compacted up to ${marker.index} but its first segment ${head.name} starts at ${head.first}`,
        join(dir, segmentName(marker.index + 1)),
      );
    }
    const segments: Segment[] = [];
    const terms: number[] = [];
    let expected = head ? head.first : marker.index + 1;
    /** The term of the entry at the marker's index, if the segments still hold it. */
    let termAtMarker: number | undefined;
    try {
      for (let i = 0; i < found.length; i++) {
        const { name, first } = found[i] as { name: string; first: number };
        const path = join(dir, name);
        const prev = found[i - 1];
        if (first > expected) {
          throw new StorageError(
            "missing-segment",
            `${dir}: missing segment ${segmentName(expected)}: ${prev?.name} ends at index ${expected - 1} but the next segment is ${name}`,
            join(dir, segmentName(expected)),
          );
        }
        if (first < expected) {
          throw new StorageError(
            "corrupt",
            `${path}: starts at index ${first}, but ${prev?.name} already holds entries up to ${expected - 1}`,
            path,
            0,
          );
        }
        const isLast = i === found.length - 1;
        const bytes = await readFile(path);
        const scan = scanSegment(bytes, path, first, isLast);
        const fh = await open(path, SEGMENT_OPEN_EXISTING);
        let size = scan.end;
        if (scan.torn) {
          logger.warn(
            `${path}: torn write at byte offset ${scan.torn.offset} (${scan.torn.reason}): cutting off ${bytes.length - scan.torn.offset} bytes`,
          );
          if (scan.torn.offset < SEGMENT_HEADER_BYTES) {
            await fh.truncate(0);
            await fh.write(SEGMENT_MAGIC, 0, SEGMENT_HEADER_BYTES, 0);
            size = SEGMENT_HEADER_BYTES;
          } else {
            await fh.truncate(scan.torn.offset);
          }
          await fh.sync();
        }
        const allocated = scan.torn ? size : bytes.length;
        segments.push({ first, path, fh, offsets: scan.offsets, size, allocated, dirty: false });
        for (let k = 0; k < scan.terms.length; k++) {
          if (first + k > marker.index) terms.push(scan.terms[k] as number);
          else if (first + k === marker.index) termAtMarker = scan.terms[k];
        }
        expected = first + scan.offsets.length;
      }
    } catch (e) {
      for (const s of segments) await s.fh.close();
      throw e;
    }
    const last = expected - 1;
    if (segments.length > 0 && last < marker.index) {
      for (const seg of segments) await seg.fh.close();
      throw new StorageError(
        "corrupt",
        `${dir}: the log ends at index ${last} but ${MARKER_FILE} says it is compacted up to ${marker.index}`,
        join(dir, MARKER_FILE),
      );
    }
    // Terms never decrease along a log, and the entry at the marker has the marker's term.
    const firstTerm = terms[0];
    if (
      (termAtMarker !== undefined && termAtMarker !== marker.term) ||
      (firstTerm !== undefined && firstTerm < marker.term)
    ) {
      for (const seg of segments) await seg.fh.close();
      throw new StorageError(
        "corrupt",
        termAtMarker !== undefined && termAtMarker !== marker.term
          ? `${dir}: entry ${marker.index} has term ${termAtMarker} but ${MARKER_FILE} says ${marker.term}`
          : `${dir}: entry ${marker.index + 1} has term ${firstTerm}, lower than the term ${marker.term} of the compacted entry ${marker.index} (${MARKER_FILE})`,
        join(dir, MARKER_FILE),
      );
    }
    for (const name of leftovers) {
      logger.warn(`${join(dir, name)}: removing a segment left over by a compaction`);
      await unlink(join(dir, name));
    }
    if (leftovers.length > 0) await fsyncDir(dir);
    return new FileLogBackend(
      dir,
      segments,
      last,
      { snapIndex: marker.index, snapTerm: marker.term, terms },
      options.segmentBytes ?? DEFAULT_SEGMENT_BYTES,
    );
  }

  async persist(ops: readonly LogOp[]): Promise<void> {
    this.dirChanged = false;
    for (const op of ops) {
      switch (op.kind) {
        case "append":
          await this.appendEntries(op.entries);
          break;
        case "truncate":
          await this.flushPending();
          await this.truncateFrom(op.from);
          break;
        case "compact":
          // Records before the marker must be durable first: the marker promises they existed.
          await this.flushPending();
          await this.syncDirty();
          await this.writeMarker(op.index, op.term);
          while (this.segments.length >= 2 && (this.segments[1] as Segment).first - 1 <= op.index) {
            await this.removeSegment(this.segments.shift() as Segment);
          }
          break;
        case "reset":
          // Segments go first, newest first, then the marker: a crash part-way leaves a prefix
          // of the old log under the old marker (RaftStorage.open then resets it again to the
          // snapshot, which was saved before), never old entries under the new marker.
          await this.flushPending();
          for (const s of this.segments.splice(0).reverse()) await this.removeSegment(s);
          await fsyncDir(this.dir);
          await this.writeMarker(op.index, op.term);
          this.last = op.index;
          break;
      }
    }
    await this.flushPending();
    await this.syncDirty();
    if (this.dirChanged) await fsyncDir(this.dir);
  }

  readonly readDurable = (lo: number, hi: number, maxBytes: number): Entry[] => {
    const out: Entry[] = [];
    let size = 0;
    let i = lo;
    while (i < hi && (out.length === 0 || size <= maxBytes)) {
      const seg = this.segmentOf(i);
      let k = i - seg.first;
      const start = seg.offsets[k] as number;
      let end = start;
      // One read for a run of records: up to hi, the segment's end or READ_CHUNK_BYTES.
      for (let j = k; j < seg.offsets.length && seg.first + j < hi; j++) {
        const recEnd = j + 1 < seg.offsets.length ? (seg.offsets[j + 1] as number) : seg.size;
        if (j > k && recEnd - start > READ_CHUNK_BYTES) break;
        end = recEnd;
      }
      const buf = Buffer.allocUnsafe(end - start);
      let got = 0;
      while (got < buf.length) {
        const n = readSync(seg.fh.fd, buf, got, buf.length - got, start + got);
        if (n === 0) break;
        got += n;
      }
      if (got < buf.length) {
        throw new StorageError(
          "corrupt",
          `${seg.path}: expected ${buf.length} bytes at offset ${start}, the file ends after ${got}`,
          seg.path,
          start,
        );
      }
      let pos = 0;
      while (pos < buf.length) {
        const { entry, next } = decodeRecord(buf, pos, seg.path, start);
        if (entry.index !== seg.first + k) {
          throw new StorageError(
            "corrupt",
            `${seg.path}: record at offset ${start + pos} holds index ${entry.index}, expected ${seg.first + k}`,
            seg.path,
            start + pos,
          );
        }
        out.push(entry);
        size += entrySize(entry);
        pos = next;
        k++;
      }
      i = seg.first + k;
    }
    return out;
  };

  setInlineWriteBytes(maxBytes: number): void {
    this.inlineWriteBytes = Math.max(0, maxBytes);
  }

  async close(): Promise<void> {
    for (const s of this.segments) await s.fh.close();
    this.segments.length = 0;
  }

  private segmentOf(index: number): Segment {
    let lo = 0;
    let hi = this.segments.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if ((this.segments[mid] as Segment).first <= index) lo = mid;
      else hi = mid - 1;
    }
    const seg = this.segments[lo];
    if (!seg || index < seg.first || index - seg.first >= seg.offsets.length) {
      throw new StorageError("corrupt", `${this.dir}: no segment holds entry ${index}`);
    }
    return seg;
  }

  private async appendEntries(entries: readonly Entry[]): Promise<void> {
    const from = (entries[0] as Entry).index;
    if (from <= this.last) {
      await this.flushPending();
      await this.truncateFrom(from);
    }
    if (from !== this.last + 1) {
      throw new StorageError(
        "invalid-argument",
        `${this.dir}: append at ${from} does not follow the last index ${this.last}`,
      );
    }
    let seg = this.segments[this.segments.length - 1];
    if (!seg || (seg.size + this.pendingBytes >= this.segmentBytes && seg.offsets.length > 0)) {
      await this.flushPending();
      seg = await this.roll(from);
    }
    const { bytes, offsets } = encodeRecords(entries);
    const base = seg.size + this.pendingBytes;
    for (const o of offsets) seg.offsets.push(base + o);
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.last = (entries[entries.length - 1] as Entry).index;
  }

  /** Starts a new segment whose first entry will be `first`. */
  private async roll(first: number): Promise<Segment> {
    // The previous segment is complete, and trimmed to its records, before the next one exists,
    // so only the last segment can ever end in a torn write or in zeros.
    const prev = this.segments.at(-1);
    if (prev && prev.allocated > prev.size) {
      await prev.fh.truncate(prev.size);
      prev.allocated = prev.size;
      prev.dirty = true;
    }
    await this.syncDirty();
    const path = join(this.dir, segmentName(first));
    const fh = await open(path, SEGMENT_OPEN_NEW);
    await fh.write(SEGMENT_MAGIC, 0, SEGMENT_HEADER_BYTES, 0);
    const seg: Segment = {
      first,
      path,
      fh,
      offsets: [],
      size: SEGMENT_HEADER_BYTES,
      allocated: SEGMENT_HEADER_BYTES,
      dirty: true,
    };
    this.segments.push(seg);
    this.dirChanged = true;
    return seg;
  }

  /** Writes the records queued for the current segment in one call. */
  private async flushPending(): Promise<void> {
    if (this.pendingBytes === 0) return;
    const seg = this.segments[this.segments.length - 1] as Segment;
    const bufs = this.pending;
    const total = this.pendingBytes;
    this.pending = [];
    this.pendingBytes = 0;
    if (seg.size + total > seg.allocated) await this.preallocate(seg, seg.size + total);
    const bytesWritten =
      total <= this.inlineWriteBytes
        ? writevSync(seg.fh.fd, bufs, seg.size)
        : (await seg.fh.writev(bufs, seg.size)).bytesWritten;
    if (bytesWritten !== total) {
      throw new StorageError(
        "io",
        `${seg.path}: short write at offset ${seg.size} (${bytesWritten} of ${total} bytes)`,
        seg.path,
        seg.size,
      );
    }
    // With O_DSYNC the write returned once its data (and the file size) reached the disk, as an
    // fdatasync would have made it: the segment is not dirty.
    seg.size += total;
    if (!WRITES_ARE_DURABLE) seg.dirty = true;
  }

  /**
   * Extends `seg` with zeros from its current length to past `needed` (PREALLOCATE_BYTES more,
   * but not far past the size at which the next segment starts). Only space after the records
   * is written, before the records that go into it.
   */
  private async preallocate(seg: Segment, needed: number): Promise<void> {
    const target = Math.max(needed, Math.min(needed + PREALLOCATE_BYTES, this.segmentBytes));
    zeroChunk ??= Buffer.alloc(PREALLOCATE_BYTES);
    for (let at = seg.allocated; at < target; ) {
      const n = Math.min(zeroChunk.length, target - at);
      const { bytesWritten } = await seg.fh.write(zeroChunk, 0, n, at);
      if (bytesWritten !== n) {
        throw new StorageError(
          "io",
          `${seg.path}: short write while preallocating at offset ${at} (${bytesWritten} of ${n} bytes)`,
          seg.path,
          at,
        );
      }
      at += n;
      seg.allocated = at;
    }
    if (!WRITES_ARE_DURABLE) seg.dirty = true;
  }

  private async syncDirty(): Promise<void> {
    await Promise.all(
      this.segments
        .filter((s) => s.dirty)
        .map(async (s) => {
          await s.fh.datasync();
          s.dirty = false;
        }),
    );
  }

  /** Removes entries from `from` on (nothing is queued in memory when this is called). */
  private async truncateFrom(from: number): Promise<void> {
    // Newest segments first, so that a crash part-way leaves a log without holes.
    while (this.segments.length > 0 && (this.segments.at(-1) as Segment).first >= from) {
      await this.removeSegment(this.segments.pop() as Segment);
    }
    const seg = this.segments.at(-1);
    if (seg && from - seg.first < seg.offsets.length) {
      const offset = seg.offsets[from - seg.first] as number;
      // The file itself is cut (zeros written ahead go too): the discarded records are gone
      // from the disk, not only from memory, before anything is written in their place.
      await seg.fh.truncate(offset);
      seg.offsets.length = from - seg.first;
      seg.size = offset;
      seg.allocated = offset;
      seg.dirty = true;
    }
    this.last = Math.min(this.last, from - 1);
  }

  private async removeSegment(s: Segment): Promise<void> {
    await s.fh.close();
    await unlink(s.path);
    this.dirChanged = true;
  }

  private async writeMarker(index: number, term: number): Promise<void> {
    const payload = encodeSnapshotMetadata({ index, term, confState: EMPTY_CONF_STATE });
    await writeFileAtomic(join(this.dir, MARKER_FILE), encodeBlob(MARKER_MAGIC, payload));
  }
}
