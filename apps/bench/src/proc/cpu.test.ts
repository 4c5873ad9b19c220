import { describe, expect, it } from "vitest";
import { cpuMs, parseCpuMs } from "./cpu.js";

describe("CPU time from /proc/<pid>/stat", () => {
  it("reads utime + stime (fields 14 and 15) in ms, even when the name holds ') '", () => {
    // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const line = "4242 (node (a) b) S 1 4242 4242 0 -1 4194304 10 0 0 0 250 75 0 0 20 0 11 0";
    expect(parseCpuMs(line)).toBe(3250);
  });

  it("refuses a line it cannot read", () => {
    expect(() => parseCpuMs("4242 (x) S 1")).toThrow(/unexpected/);
  });

  it.runIf(process.platform === "linux")("grows while this process computes", async () => {
    const before = (await cpuMs(process.pid)) as number;
    expect(before).toBeGreaterThanOrEqual(0);
    // Busy until the counter (10 ms resolution) has moved: bounded by work, not by a sleep.
    let after = before;
    let x = 0;
    for (let round = 0; round < 10_000 && after <= before; round++) {
      for (let i = 0; i < 100_000; i++) x += Math.sqrt(i);
      after = (await cpuMs(process.pid)) as number;
    }
    expect(x).toBeGreaterThan(0);
    expect(after).toBeGreaterThan(before);
  });

  it("is undefined for a process that does not exist", async () => {
    expect(await cpuMs(2 ** 22 + 17)).toBeUndefined();
  });
});
