// Damaged files: each gives a clear error naming the file (and offset), or, for a torn tail, a
// warning and a log cut back to its last intact record. Nothing intact is lost.
import { mkdtemp, readdir, readFile, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EMPTY_CONF_STATE, type Logger } from "@d-engine/core";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { encodeSnapshotMetadata } from "./codec.js";
import { isStorageError, type StorageError } from "./errors.js";
import { encodeBlob } from "./file/checksummed-blob.js";
import { HARD_STATE_FILE } from "./file/file-hard-state.js";
import { MARKER_FILE } from "./file/file-log.js";
import { openFileStores } from "./file/index.js";
import { parseSegmentName, scanSegment } from "./file/segment-format.js";
import { RaftStorage } from "./raft-storage.js";
import type { RaftStores } from "./stores.js";
import { entriesFor, entryProblem } from "./testing/entries.js";

const SEGMENT_BYTES = 4096;

describe("file backend: damaged files", () => {
  let dir: string;
  let warnings: string[];
  const logger: Logger = { debug() {}, info() {}, warn: (m) => warnings.push(m) };
  const open = (): Promise<RaftStores> =>
    openFileStores(dir, { segmentBytes: SEGMENT_BYTES, logger, keepOld: 3 });
  const logDir = (): string => join(dir, "log");
  const segments = async (): Promise<string[]> =>
    (await readdir(logDir())).filter((n) => n.endsWith(".log")).sort();
  /** Record offsets of a segment, from an intact file. */
  const recordOffsets = async (name: string, first: number): Promise<number[]> =>
    scanSegment(await readFile(join(logDir(), name)), name, first, false).offsets;
  const flipBit = async (path: string, offset: number): Promise<void> => {
    const bytes = await readFile(path);
    bytes[offset] = (bytes[offset] as number) ^ 0x04;
    await writeFile(path, bytes);
  };
  const openError = async (): Promise<StorageError> => {
    try {
      const s = await open();
      await s.close();
    } catch (e) {
      if (isStorageError(e)) return e;
      throw e;
    }
    throw new Error("open succeeded on a damaged directory");
  };
  /** Writes 1..n (term 1) in batches of 10 (segments roll between write groups) and closes. */
  const writeLog = async (n: number): Promise<void> => {
    const s = await open();
    for (let i = 1; i <= n; i += 10) await s.log.append(entriesFor(i, Math.min(n, i + 9), 1));
    await s.close();
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "dengine-corrupt-"));
    warnings = [];
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses to open on a flipped bit in a record of an earlier segment, naming file and offset", async () => {
    await writeLog(200);
    const names = await segments();
    expect(names.length).toBeGreaterThan(3);
    const name = names[1] as string;
    const offsets = await recordOffsets(name, Number(name.slice(0, 20)));
    const at = offsets[5] as number;
    await flipBit(join(logDir(), name), at + 12); // inside the payload
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.path).toBe(join(logDir(), name));
    expect(e.offset).toBe(at);
    expect(e.message).toContain(join(logDir(), name));
    expect(e.message).toContain(`byte offset ${at}`);
    expect(e.message).toMatch(/checksum mismatch/);
  });

  it("refuses to open on a flipped bit in the middle of the last segment (valid records follow)", async () => {
    await writeLog(200);
    const name = (await segments()).at(-1) as string;
    const offsets = await recordOffsets(name, Number(name.slice(0, 20)));
    expect(offsets.length).toBeGreaterThan(4);
    const at = offsets[2] as number;
    await flipBit(join(logDir(), name), at + 2); // in the length field
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.offset).toBe(at);
    expect(e.message).toMatch(/valid records follow/);
  });

  it("cuts a torn tail with a warning and keeps every earlier record", async () => {
    await writeLog(200);
    const name = (await segments()).at(-1) as string;
    const first = Number(name.slice(0, 20));
    const offsets = await recordOffsets(name, first);
    const lastAt = offsets.at(-1) as number;
    await truncate(join(logDir(), name), lastAt + 5); // the last record loses its end
    let s = await open();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(join(logDir(), name));
    expect(warnings[0]).toContain(`byte offset ${lastAt}`);
    expect(s.log.lastIndex()).toBe(199);
    for (const e of s.log.entries(1, 200, Number.MAX_SAFE_INTEGER)) {
      expect(entryProblem(e)).toBeUndefined();
    }
    // The log goes on from there, and the repair itself is durable.
    await s.log.append(entriesFor(200, 210, 2));
    await s.close();
    warnings = [];
    s = await open();
    expect(warnings).toEqual([]);
    expect(s.log.lastIndex()).toBe(210);
    expect(s.log.term(200)).toBe(2);
    await s.close();
  });

  it("cuts garbage written after the last record (a torn write that extended the file)", async () => {
    await writeLog(50);
    const name = (await segments()).at(-1) as string;
    const path = join(logDir(), name);
    const bytes = await readFile(path);
    const garbage = Buffer.alloc(700, 0xab);
    await writeFile(path, Buffer.concat([bytes, garbage]));
    const s = await open();
    // Cut from the records' end: the zeros written ahead of them go too.
    const end = scanSegment(bytes, name, parseSegmentName(name) as number, true).end;
    expect(warnings.join()).toContain(`cutting off ${bytes.length - end + garbage.length} bytes`);
    expect(s.log.lastIndex()).toBe(50);
    await s.close();
  });

  it("cuts a torn record written into the zeros ahead of the records, and nothing else", async () => {
    await writeLog(50);
    const name = (await segments()).at(-1) as string;
    const path = join(logDir(), name);
    const bytes = await readFile(path);
    const end = scanSegment(bytes, name, parseSegmentName(name) as number, true).end;
    expect(bytes.length).toBeGreaterThan(end); // preallocated
    // A record's first bytes made it to disk, the rest of its space is still zeros.
    bytes.fill(0xab, end, end + 20);
    await writeFile(path, bytes);
    const s = await open();
    expect(warnings.join()).toContain(`torn write at byte offset ${end}`);
    expect(s.log.lastIndex()).toBe(50);
    expect((await readFile(path)).length).toBe(end);
    // Appends go on after the cut, and survive a restart.
    await s.log.append(entriesFor(51, 55, 1));
    await s.close();
    const again = await open();
    expect(again.log.lastIndex()).toBe(55);
    const read = again.log.entries(1, 56, Number.MAX_SAFE_INTEGER);
    expect(read.map((e) => e.index)).toEqual(entriesFor(1, 55, 1).map((e) => e.index));
    for (const e of read) expect(entryProblem(e)).toBeUndefined();
    await again.close();
  });

  it("refuses zeros in the middle of the records, where valid records follow", async () => {
    await writeLog(10);
    const name = (await segments()).at(-1) as string;
    const offsets = await recordOffsets(name, 1);
    const path = join(logDir(), name);
    const bytes = await readFile(path);
    const at = offsets[4] as number;
    bytes.fill(0, at, offsets[5] as number);
    await writeFile(path, bytes);
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.offset).toBe(at);
    expect(e.message).toContain("valid records follow");
  });

  it("refuses to open when a segment is missing, naming it", async () => {
    await writeLog(200);
    const names = await segments();
    const missing = names[2] as string;
    await unlink(join(logDir(), missing));
    const e = await openError();
    expect(e.code).toBe("missing-segment");
    expect(e.path).toBe(join(logDir(), missing));
    expect(e.message).toContain(`missing segment ${missing}`);
    expect(e.message).toContain(names[1] as string);
  });

  it("refuses to open when the first segment is missing", async () => {
    await writeLog(200);
    const names = await segments();
    await unlink(join(logDir(), names[0] as string));
    const e = await openError();
    expect(e.code).toBe("missing-segment");
    expect(e.message).toContain(`missing segment ${names[0]}`);
  });

  it("finishes a compaction that crashed before deleting old segments", async () => {
    await writeLog(200);
    const before = await segments();
    // The marker is written first; the crash came before any segment was deleted.
    const payload = encodeSnapshotMetadata({ index: 150, term: 1, confState: EMPTY_CONF_STATE });
    await writeFile(join(logDir(), MARKER_FILE), encodeBlob(0x4d434c44, payload));
    const s = await open();
    expect(warnings.length).toBeGreaterThan(0);
    expect((await segments()).length).toBeLessThan(before.length);
    expect(s.log.firstIndex()).toBe(151);
    expect(s.log.term(150)).toBe(1);
    expect(s.log.lastIndex()).toBe(200);
    await s.close();
  });

  it("recovers a reset cut short: a prefix of the old log, reset again by RaftStorage.open", async () => {
    await writeLog(200);
    let s = await open();
    await s.snapshots.save(
      { index: 300, term: 9, confState: EMPTY_CONF_STATE },
      new Uint8Array(10),
    );
    await s.close();
    // reset(300, 9) deletes segments newest first, then writes the marker: crash after two.
    const names = await segments();
    for (const n of names.slice(-2)) await unlink(join(logDir(), n));
    s = await open();
    expect(s.log.firstIndex()).toBe(1);
    expect(s.log.lastIndex()).toBe(Number((names.at(-2) as string).slice(0, 20)) - 1);
    const rs = await RaftStorage.open(s);
    expect(rs.firstIndex()).toBe(301);
    expect(rs.term(300)).toBe(9);
    await s.close();
    s = await open();
    expect(s.log.firstIndex()).toBe(301);
    expect(await segments()).toEqual([]);
    await s.close();
  });

  it("refuses a compaction marker that contradicts the log, naming it", async () => {
    await writeLog(200);
    const payload = encodeSnapshotMetadata({ index: 120, term: 9, confState: EMPTY_CONF_STATE });
    await writeFile(join(logDir(), MARKER_FILE), encodeBlob(0x4d434c44, payload));
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.path).toBe(join(logDir(), MARKER_FILE));
    expect(e.message).toMatch(/term 1, lower than the term 9 of the compacted entry 120/);
    expect((await segments()).length).toBeGreaterThan(3); // nothing deleted
  });

  it("refuses to open on a damaged compaction marker, naming it", async () => {
    const s = await open();
    await s.log.append(entriesFor(1, 20, 1));
    await s.log.compact(10);
    await s.close();
    await flipBit(join(logDir(), MARKER_FILE), 13);
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.path).toBe(join(logDir(), MARKER_FILE));
  });

  it("falls back to the other hard-state slot if one is damaged; refuses if both are", async () => {
    let s = await open();
    await s.hardState.save({ term: 5, vote: 1, commit: 0 }); // slot 1
    await s.hardState.save({ term: 6, vote: 2, commit: 0 }); // slot 0
    await s.close();
    const path = join(dir, HARD_STATE_FILE);
    await flipBit(path, 20); // slot 0: the newest
    s = await open();
    // A torn write of the newest slot looks like this: the previous state is what was durable.
    expect(s.hardState.load()).toEqual({ term: 5, vote: 1, commit: 0 });
    await s.close();
    await flipBit(path, 512 + 20); // slot 1 too
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.message).toContain(path);
    expect(e.message).toMatch(/slot 0 at byte offset 0: checksum mismatch/);
  });

  it("reports a snapshot with a bad checksum; the older snapshot stays loadable", async () => {
    let s = await open();
    const data = (n: number) => Uint8Array.from({ length: 5000 }, (_, i) => (i * n) & 0xff);
    await s.snapshots.save({ index: 10, term: 1, confState: EMPTY_CONF_STATE }, data(3));
    const newest = await s.snapshots.save(
      { index: 20, term: 2, confState: EMPTY_CONF_STATE },
      data(5),
    );
    await s.close();
    await flipBit(newest.location, newest.encodedBytes - 100); // in the data
    s = await open();
    expect(s.snapshots.latest()?.metadata.index).toBe(20);
    const e = await s.snapshots.loadLatest().catch((err: unknown) => err);
    expect(isStorageError(e, "snapshot-checksum")).toBe(true);
    expect((e as StorageError).message).toContain(newest.location);
    const older = await s.snapshots.load(10);
    expect(Buffer.from(older.data).equals(Buffer.from(data(3)))).toBe(true);
    // Streaming it for transfer fails too, before the last chunk goes out.
    const chunks: Uint8Array[] = [];
    const stream = async () => {
      for await (const c of s.snapshots.chunks(20, 1024)) chunks.push(c);
    };
    await expect(stream()).rejects.toSatisfy((err: unknown) =>
      isStorageError(err, "snapshot-checksum"),
    );
    expect(chunks.length).toBe(Math.ceil(newest.encodedBytes / 1024) - 1);
    await s.close();
  });

  it("refuses to open on a snapshot whose header is damaged, naming it", async () => {
    let s = await open();
    const info = await s.snapshots.save(
      { index: 7, term: 1, confState: EMPTY_CONF_STATE },
      new Uint8Array(100),
    );
    await s.close();
    await flipBit(info.location, 26); // in the metadata
    const e = await openError();
    expect(e.code).toBe("corrupt");
    expect(e.path).toBe(info.location);
    expect(e.message).toMatch(/header checksum mismatch/);
    // A snapshot file cut short is refused too (a completed rename means a complete file).
    await rm(info.location);
    s = await open();
    const again = await s.snapshots.save(
      { index: 8, term: 1, confState: EMPTY_CONF_STATE },
      new Uint8Array(100),
    );
    await s.close();
    await truncate(again.location, again.encodedBytes - 10);
    const e2 = await openError();
    expect(e2.code).toBe("corrupt");
    expect(e2.message).toContain(`header says ${again.encodedBytes}`);
  });
});
