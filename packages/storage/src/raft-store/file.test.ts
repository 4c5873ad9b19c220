// The conformance suite on the file backend, writing through the thread pool and in place.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { EntryType } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { describeConformance } from "./conformance.js";
import { scanSegment } from "./file/segment-format.js";
import { fileBackend, fileInlineBackend } from "./testing/backends.js";
import { entriesFor, entryProblem } from "./testing/entries.js";

describeConformance(fileBackend);
describeConformance(fileInlineBackend);

/** Whether the log's segment files hold `data` (the space ahead of the records is zeros). */
function logHolds(dir: string, data: Uint8Array): boolean {
  const logDir = join(dir, "log");
  return readdirSync(logDir)
    .filter((n) => n.endsWith(".log"))
    .some((n) => readFileSync(join(logDir, n)).includes(Buffer.from(data)));
}

describe("file log: inline writes", () => {
  const entry = (index: number) => ({
    index,
    term: 1,
    type: EntryType.Normal,
    data: new Uint8Array(300).fill(index),
  });

  for (const [what, limit, inline] of [
    ["an append within the limit is durable before the event loop turns", 4096, true],
    ["an append over the limit waits for the thread pool", 100, false],
  ] as const) {
    it(what, async () => {
      const place = await fileInlineBackend.place();
      try {
        const stores = await place.open();
        stores.log.setInlineWriteBytes(limit);
        // The first append opens a segment file (through the thread pool, whatever the limit).
        await stores.log.append([entry(1)]);
        expect(logHolds(place.where, entry(2).data)).toBe(false);
        let settled = false;
        const done = stores.log.append([entry(2)]).then(() => {
          settled = true;
        });
        // Only microtasks run here. An inline write completes among them; a thread-pool write
        // completes in a libuv callback, which cannot run before they are all done.
        for (let i = 0; i < 200; i++) await Promise.resolve();
        expect(settled).toBe(inline);
        if (inline) expect(logHolds(place.where, entry(2).data)).toBe(true);
        await done;
        expect(logHolds(place.where, entry(2).data)).toBe(true);
        await stores.close();
      } finally {
        await place.dispose();
      }
    });
  }
});

describe("file log: preallocation", () => {
  const segmentFiles = (dir: string): string[] =>
    readdirSync(join(dir, "log"))
      .filter((n) => n.endsWith(".log"))
      .sort()
      .map((n) => join(dir, "log", n));
  /** A segment file as recovery scans it: its records, their end, and what follows them. */
  const layout = (path: string, first: number, isLast = true) => {
    const bytes = readFileSync(path);
    const scan = scanSegment(bytes, path, first, isLast);
    return {
      records: scan.offsets.length,
      end: scan.end,
      length: bytes.length,
      onlyZerosAfter: bytes.subarray(scan.end).every((b) => b === 0),
    };
  };
  /** The path of the one segment file in `dir`. */
  const onlySegment = (dir: string): string => {
    const files = segmentFiles(dir);
    expect(files).toHaveLength(1);
    return files[0] as string;
  };

  it("appends go into zeros written ahead; a restart finds exactly the records", async () => {
    const place = await fileBackend.place();
    try {
      const stores = await place.open({ segmentBytes: 1024 * 1024 });
      await stores.log.append(entriesFor(1, 40, 1));
      const path = onlySegment(place.where);
      const { end, length, onlyZerosAfter } = layout(path, 1);
      expect(length).toBeGreaterThan(end);
      expect(onlyZerosAfter).toBe(true);
      await stores.close();
      const again = await place.open({ segmentBytes: 1024 * 1024 });
      expect(again.log.lastIndex()).toBe(40);
      const read = again.log.entries(1, 41, Number.MAX_SAFE_INTEGER);
      expect(read).toHaveLength(40);
      for (const e of read) expect(entryProblem(e)).toBeUndefined();
      await again.log.append(entriesFor(41, 45, 1));
      expect(layout(path, 1).length).toBe(length); // still inside the zeros
      await again.close();
    } finally {
      await place.dispose();
    }
  });

  it("a discarded suffix never comes back: truncation cuts the file itself", async () => {
    const place = await fileBackend.place();
    try {
      const stores = await place.open({ segmentBytes: 1024 * 1024 });
      await stores.log.append(entriesFor(1, 30, 1));
      // A new leader's entries replace 20..30 with a shorter run of term 2.
      await stores.log.append(entriesFor(20, 22, 2));
      // After the records of 1..22 the file holds only zeros: nothing of 23..30 is left.
      const { records, onlyZerosAfter } = layout(onlySegment(place.where), 1);
      expect(records).toBe(22);
      expect(onlyZerosAfter).toBe(true);
      await stores.close();
      const again = await place.open({ segmentBytes: 1024 * 1024 });
      expect(again.log.lastIndex()).toBe(22);
      expect(again.log.term(19)).toBe(1);
      expect(again.log.term(22)).toBe(2);
      await again.close();
    } finally {
      await place.dispose();
    }
  });

  it("a segment is trimmed to its records before the next one starts", async () => {
    const place = await fileBackend.place();
    try {
      const stores = await place.open({ segmentBytes: 4096 });
      for (let i = 1; i <= 100; i += 5) await stores.log.append(entriesFor(i, i + 4, 1));
      const files = segmentFiles(place.where);
      expect(files.length).toBeGreaterThan(2);
      let first = 1;
      for (const path of files) {
        const isLast = path === files.at(-1);
        const { records, end, length } = layout(path, first, isLast);
        if (!isLast) expect(length).toBe(end);
        first += records;
      }
      expect(first).toBe(101);
      await stores.close();
    } finally {
      await place.dispose();
    }
  });
});
