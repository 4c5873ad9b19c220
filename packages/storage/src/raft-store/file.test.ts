// The conformance suite on the file backend, writing through the thread pool and in place.
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { EntryType } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import { describeConformance } from "./conformance.js";
import { fileBackend, fileInlineBackend } from "./testing/backends.js";

describeConformance(fileBackend);
describeConformance(fileInlineBackend);

/** Bytes in the log's segment files. */
function segmentBytes(dir: string): number {
  const logDir = join(dir, "log");
  return readdirSync(logDir)
    .filter((n) => n.endsWith(".log"))
    .reduce((sum, n) => sum + statSync(join(logDir, n)).size, 0);
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
        const before = segmentBytes(place.where);
        let settled = false;
        const done = stores.log.append([entry(2)]).then(() => {
          settled = true;
        });
        // Only microtasks run here. An inline write completes among them; a thread-pool write
        // completes in a libuv callback, which cannot run before they are all done.
        for (let i = 0; i < 200; i++) await Promise.resolve();
        expect(settled).toBe(inline);
        if (inline) expect(segmentBytes(place.where)).toBeGreaterThan(before);
        await done;
        expect(segmentBytes(place.where)).toBeGreaterThan(before);
        await stores.close();
      } finally {
        await place.dispose();
      }
    });
  }
});
