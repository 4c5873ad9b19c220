// Hard state in its own small file with two 512-byte slots. A save writes the slot the previous
// save did not use, then fsyncs: one fsync per save, and whatever a crash does to the slot being
// written, the other still holds the previous state. Each slot:
//
//   magic "DHS1" (u32) | sequence (u64 LE) | length (u32) | protobuf dengine.v1.HardState
//   | CRC32C (u32) of everything before it
//
// Load takes the valid slot with the higher sequence. The file is created with slot 0 holding
// the empty state, so a valid slot always exists unless the file was damaged: then opening fails.
//
// A third slot (at 1024) takes commit-only saves without fsync (saveUnsynced): it is never one of
// the two synced slots, so a crash while it is written cannot touch the durable state. At load,
// its commit index is used only if its term and vote equal the synced state's and its commit is
// higher (it was written after entries up to that commit were durable; commit indexes only grow
// within a term and vote). A file without it (written before it existed) reads the same.
//
// Commit-only saves are coalesced: at most one commit-slot write per COMMIT_SLOT_INTERVAL_MS,
// the newest state winning. Why: the slot is rewritten on nearly every Ready, and on ext4 each
// rewrite dirties the inode while the log's O_DSYNC appends keep writing metadata (not a journal
// commit, as first thought: the benchmark machine's ext4 has no journal; the cost was measured
// either way), so a "microsecond" page-cache write measured 30-45 us on average inside the write
// benchmark, on every node, on every write's path. Losing a commit index costs nothing but a slower restart
// (the leader tells it again; a state machine ahead of it proves it), so writing it 20 times a
// second instead of per Ready gives up nothing the node relies on.
import { existsSync, writeSync } from "node:fs";
import { type FileHandle, mkdir, open, rename } from "node:fs/promises";
import { join } from "node:path";
import { EMPTY_HARD_STATE, type HardState } from "@d-engine/core";
import { decodeHardState, encodeHardState } from "../codec.js";
import { crc32c } from "../crc.js";
import { StorageError } from "../errors.js";
import type { HardStateStore } from "../hard-state-store.js";
import { GroupCommitQueue } from "../write-queue.js";
import { fsyncDir } from "./fs-util.js";

export const HARD_STATE_FILE = "hardstate";
const SLOT_BYTES = 512;
/** The unsynced commit slot's offset (after the two synced slots). */
const COMMIT_SLOT = 2 * SLOT_BYTES;
const MAGIC = 0x31534844; // "DHS1"
/** The most often the commit slot is written (see the file header). */
export const COMMIT_SLOT_INTERVAL_MS = 50;

function encodeSlot(seq: number, hs: HardState): Buffer {
  const payload = encodeHardState(hs);
  const slot = Buffer.alloc(SLOT_BYTES);
  slot.writeUInt32LE(MAGIC, 0);
  slot.writeUInt32LE(seq % 0x100000000, 4);
  slot.writeUInt32LE(Math.floor(seq / 0x100000000), 8);
  slot.writeUInt32LE(payload.length, 12);
  slot.set(payload, 16);
  const end = 16 + payload.length;
  slot.writeUInt32LE(crc32c(slot.subarray(0, end)), end);
  return slot;
}

/** The slot's sequence and state, or a description of what is wrong with it. */
function decodeSlot(slot: Buffer): { seq: number; hs: HardState } | string {
  if (slot.length < 20) return `slot is ${slot.length} bytes`;
  if (slot.readUInt32LE(0) !== MAGIC) return "bad magic number";
  const len = slot.readUInt32LE(12);
  if (16 + len + 4 > slot.length) return `payload length ${len} does not fit the slot`;
  const end = 16 + len;
  if (crc32c(slot.subarray(0, end)) !== slot.readUInt32LE(end)) return "checksum mismatch";
  try {
    const seq = slot.readUInt32LE(4) + slot.readUInt32LE(8) * 0x100000000;
    return { seq, hs: decodeHardState(slot.subarray(16, end)) };
  } catch (e) {
    return `checksum passes but the state does not decode: ${String(e)}`;
  }
}

export async function openFileHardState(dir: string): Promise<HardStateStore> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, HARD_STATE_FILE);
  if (!existsSync(path)) {
    const fh = await open(`${path}.tmp`, "w");
    await fh.write(encodeSlot(0, EMPTY_HARD_STATE), 0, SLOT_BYTES, 0);
    await fh.sync();
    await fh.close();
    await rename(`${path}.tmp`, path);
    await fsyncDir(dir);
  }
  const fh = await open(path, "r+");
  try {
    const bytes = await fh.readFile();
    const slots = [0, 1].map((i) =>
      decodeSlot(bytes.subarray(i * SLOT_BYTES, Math.min(bytes.length, (i + 1) * SLOT_BYTES))),
    );
    const valid = slots.filter((s): s is { seq: number; hs: HardState } => typeof s !== "string");
    if (valid.length === 0) {
      throw new StorageError(
        "corrupt",
        `${path}: no valid hard-state slot (slot 0 at byte offset 0: ${slots[0]}; slot 1 at byte offset ${SLOT_BYTES}: ${slots[1]})`,
        path,
        0,
      );
    }
    const newest = valid.reduce((a, b) => (b.seq > a.seq ? b : a));
    return new FileHardStateStore(path, fh, newest.seq, withLaterCommit(newest.hs, bytes));
  } catch (e) {
    await fh.close();
    throw e;
  }
}

/** The synced state, with the commit slot's higher commit index if it belongs to the same vote. */
function withLaterCommit(hs: HardState, bytes: Buffer): HardState {
  if (bytes.length < COMMIT_SLOT + SLOT_BYTES) return hs;
  const lazy = decodeSlot(bytes.subarray(COMMIT_SLOT, COMMIT_SLOT + SLOT_BYTES));
  if (typeof lazy === "string") return hs; // never written, or torn by a crash: ignore it
  const same = lazy.hs.term === hs.term && lazy.hs.vote === hs.vote;
  return same && lazy.hs.commit > hs.commit ? { ...hs, commit: lazy.hs.commit } : hs;
}

class FileHardStateStore implements HardStateStore {
  private readonly queue: GroupCommitQueue<HardState>;
  private closed = false;
  /** The newest commit-only state the commit slot does not hold yet. */
  private unwritten: HardState | undefined;
  /** When the commit slot was last written (performance.now()). */
  private lastCommitWrite = Number.NEGATIVE_INFINITY;
  /** Armed while a commit-only state waits for its interval. */
  private commitTimer: NodeJS.Timeout | undefined;
  /** A deferred commit-slot write that failed: thrown by the next call. */
  private deferredFailure: unknown;

  constructor(
    private readonly path: string,
    private readonly fh: FileHandle,
    private seq: number,
    private current: HardState,
  ) {
    this.queue = new GroupCommitQueue((states) => this.write(states), `hard state ${path}`);
  }

  load(): HardState {
    return this.current;
  }

  save(hs: HardState): Promise<void> {
    if (this.closed) return Promise.reject(new StorageError("closed", `${this.path} is closed`));
    try {
      this.throwDeferredFailure();
    } catch (e) {
      return Promise.reject(e);
    }
    this.current = hs;
    return this.queue.push(hs);
  }

  /**
   * A commit-only change, without fsync: written at once (one synchronous 512-byte pwrite into
   * the page cache, in call order) unless the slot was written less than COMMIT_SLOT_INTERVAL_MS
   * ago; then the newest such state is written when that interval is up (or at close). A later
   * save()'s fsync, or the kernel, writes it out; a crash before that loses only commit indexes.
   * A failed deferred write is thrown by the next call.
   */
  saveUnsynced(hs: HardState): void {
    if (this.closed) throw new StorageError("closed", `${this.path} is closed`);
    this.throwDeferredFailure();
    this.current = hs;
    this.unwritten = hs;
    if (this.commitTimer !== undefined) return;
    const wait = this.lastCommitWrite + COMMIT_SLOT_INTERVAL_MS - performance.now();
    if (wait <= 0) {
      this.writeCommitSlot();
      return;
    }
    this.commitTimer = setTimeout(() => {
      this.commitTimer = undefined;
      try {
        this.writeCommitSlot();
      } catch (e) {
        this.deferredFailure = e;
      }
    }, wait);
    this.commitTimer.unref();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.commitTimer);
    this.commitTimer = undefined;
    try {
      if (this.unwritten) this.writeCommitSlot();
      await this.queue.drain();
    } finally {
      await this.fh.close();
    }
  }

  /** Writes the newest commit-only state not yet written into the commit slot. */
  private writeCommitSlot(): void {
    const hs = this.unwritten;
    if (!hs) return;
    this.unwritten = undefined;
    this.lastCommitWrite = performance.now();
    const slot = encodeSlot(0, hs);
    const n = writeSync(this.fh.fd, slot, 0, SLOT_BYTES, COMMIT_SLOT);
    if (n !== SLOT_BYTES) {
      throw new StorageError("io", `${this.path}: short write of the commit slot`, this.path);
    }
  }

  private throwDeferredFailure(): void {
    if (this.deferredFailure === undefined) return;
    const e = this.deferredFailure;
    this.deferredFailure = undefined;
    throw e;
  }

  /** Saves queued together: only the newest needs to reach disk. */
  private async write(states: readonly HardState[]): Promise<void> {
    const seq = this.seq + 1;
    const slot = encodeSlot(seq, states[states.length - 1] as HardState);
    const { bytesWritten } = await this.fh.write(slot, 0, SLOT_BYTES, (seq % 2) * SLOT_BYTES);
    if (bytesWritten !== SLOT_BYTES) {
      throw new StorageError("io", `${this.path}: short write of a hard-state slot`, this.path);
    }
    await this.fh.datasync();
    this.seq = seq;
  }
}
