// History compaction proposed by the leader: bounded steps, so that applying one never stalls
// the nodes, and catching up step by step at tick pace when far behind.
import type { KvOperation, KvStateMachine } from "@d-engine/storage";
import { describe, expect, it } from "vitest";
import { SILENT_ENGINE_LOGGER } from "../logger.js";
import { Housekeeping, MAX_COMPACTION_STEP } from "./housekeeping.js";

/** A state machine that only knows its revision and compacted revision. */
function fakeKv(revision: number): { kv: KvStateMachine; compacted: { rev: number } } {
  const compacted = { rev: 0 };
  const kv = {
    revision: () => revision,
    compactRevision: () => compacted.rev,
  } as unknown as KvStateMachine;
  return { kv, compacted };
}

describe("housekeeping: history compaction", () => {
  it("compacts in steps of at most MAX_COMPACTION_STEP revisions, one per tick while behind", async () => {
    const { kv, compacted } = fakeKv(20_000);
    const proposed: number[] = [];
    const h = new Housekeeping({
      kv,
      compaction: { keepRevisions: 10_000, intervalMs: 5_000 },
      logger: SILENT_ENGINE_LOGGER,
      isLeader: () => true,
      propose: async (op: KvOperation) => {
        if (op.type === "compaction") {
          proposed.push(op.revision);
          compacted.rev = op.revision;
        }
      },
    });
    // Ticks 100 ms apart: the first check is due at once, then each step as soon as the last
    // one applied (not 5 s later), until the target (20,000 - 10,000) is reached.
    for (let t = 10_000; t < 12_000; t += 100) {
      h.onTick(t);
      await Promise.resolve();
      await Promise.resolve();
    }
    const steps = Math.ceil(10_000 / MAX_COMPACTION_STEP);
    expect(proposed).toEqual(
      Array.from({ length: steps }, (_, i) => Math.min(10_000, (i + 1) * MAX_COMPACTION_STEP)),
    );
    // Caught up: the next one waits for the interval again.
    h.onTick(12_000);
    expect(proposed.length).toBe(steps);
  });
});
