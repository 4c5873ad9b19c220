// The same seeded command sequence on every backend must give the same answers, line by line.
import { seededRng } from "@d-engine/core";
import { describe, expect, it } from "vitest";
import type { LogStore } from "./log-store.js";
import type { RaftStores } from "./stores.js";
import { ALL_BACKENDS } from "./testing/backends.js";
import { runRandomCommands } from "./testing/log-model.js";

describe("all backends agree", () => {
  for (const seed of [101, 202]) {
    it(`gives identical transcripts for the same random commands (seed ${seed})`, async () => {
      const transcripts: string[][] = [];
      for (const backend of ALL_BACKENDS) {
        const place = await backend.place();
        const open: RaftStores[] = [];
        try {
          const run = await runRandomCommands(
            seededRng(seed),
            600,
            async () => {
              const s = await place.open({ cacheBytes: 4096, segmentBytes: 4096 });
              open.push(s);
              return s.log;
            },
            async (log: LogStore) => {
              await open.find((s) => s.log === log)?.close();
            },
          );
          expect(run.mismatch, `${backend.name}, seed ${seed}`).toBeUndefined();
          transcripts.push(run.transcript);
        } finally {
          for (const s of open) await s.close().catch(() => {});
          await place.dispose();
        }
      }
      expect(transcripts).toHaveLength(3);
      expect(transcripts[1]).toEqual(transcripts[0]);
      expect(transcripts[2]).toEqual(transcripts[0]);
    });
  }
});
