// The floor probe with real processes, real TCP on 127.0.0.1 and real O_DSYNC appends (a few, in
// a temporary directory): it checks what the probe reports and that it cleans up, never how fast
// the machine is.
import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { describeFloor, FLOOR_RECORD_BYTES, probeFloor } from "./floor-probe.js";

// The workers run as forked processes, so from the build (npm test builds before testing).
const WORKER = join(
  dirname(fileURLToPath(import.meta.url)),
  "../../dist/proc/floor-probe-worker.js",
);

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe("probeFloor", () => {
  it("times replicated durable writes through three processes, and leaves nothing", async () => {
    expect(existsSync(WORKER), `${WORKER} is built`).toBe(true);
    dir = await mkdtemp(join(tmpdir(), "floor-probe-test-"));
    const f = await probeFloor(30, { dir, worker: WORKER });
    expect(f.writes).toBe(30);
    expect(f.recordBytes).toBe(FLOOR_RECORD_BYTES);
    expect(f.opsPerSec).toBeGreaterThan(0);
    expect(f.p50Ms).toBeGreaterThan(0);
    expect(f.p99Ms).toBeGreaterThanOrEqual(f.p50Ms);
    expect(await readdir(dir)).toEqual([]);
    expect(describeFloor(f)).toMatch(
      /^floor: a replicated durable write with nothing else \(.+\): [\d,]+ writes\/s, p50 [\d.]+ ms, p99 [\d.]+ ms$/,
    );
  });

  it("names a process that dies before answering", async () => {
    dir = await mkdtemp(join(tmpdir(), "floor-probe-test-"));
    await expect(probeFloor(10, { dir, worker: join(dir, "missing-worker.js") })).rejects.toThrow(
      /a floor probe process exited/,
    );
    expect(await readdir(dir)).toEqual([]);
  });
});
