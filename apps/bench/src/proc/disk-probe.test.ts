// The disk probe with real processes and real O_DSYNC appends (a few, in a temporary directory):
// it checks what the probe reports and that it cleans up, never how fast the disk is.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { describeDisk, PROBE_APPEND_BYTES, PROBE_WRITERS, probeDisk } from "./disk-probe.js";

// The worker runs as a forked process, so from the build (npm test builds before testing).
const WORKER = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../dist/proc/disk-probe-worker.js",
);

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("probeDisk", () => {
  it("times every writer's appends, for one writer and three at once, and leaves nothing", async () => {
    expect(existsSync(WORKER), `${WORKER} is built`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), "disk-probe-test-"));
    const p = await probeDisk(10, { dir, worker: WORKER });
    expect(p.dir).toBe(dir);
    expect(p.appendBytes).toBe(PROBE_APPEND_BYTES);
    expect(p.rows.map((r) => r.writers)).toEqual(PROBE_WRITERS);
    for (const r of p.rows) {
      expect(r.appends).toBe(10 * r.writers);
      expect(r.p50Ms).toBeGreaterThan(0);
      expect(r.p99Ms).toBeGreaterThanOrEqual(r.p50Ms);
    }
    expect(await readdir(dir)).toEqual([]);
    expect(describeDisk(p)).toMatch(
      /^disk: 300-byte durable \(O_DSYNC\) appends in .+: 1 writer p50 [\d.]+ ms, p99 [\d.]+ ms; 3 writers at once p50 [\d.]+ ms, p99 [\d.]+ ms$/,
    );
  });

  it("names a writer that dies before answering", async () => {
    dir = await mkdtemp(join(tmpdir(), "disk-probe-test-"));
    // A worker that exits at once: the probe must fail with the reason, not hang.
    await expect(probeDisk(10, { dir, worker: join(dir, "missing-worker.js") })).rejects.toThrow(
      /the disk probe's writer exited/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
