// CPU time a process has used (user + system, all its threads), from Linux's /proc/<pid>/stat.
// The benchmark reads it for every server process before and after a scenario's timed run: the
// difference per operation shows how much CPU each node spends on one operation, a figure far
// steadier than ops/s on a machine whose speed drifts from minute to minute (docs/benchmarks.md).
import { readFile } from "node:fs/promises";

/**
 * Clock ticks per second of /proc's utime and stime (USER_HZ). Linux reports them in USER_HZ,
 * which is 100 on x86-64 and arm64 whatever the kernel's own HZ.
 */
const USER_HZ = 100;

/**
 * utime + stime in ms from the text of a /proc/<pid>/stat file. The command name (field 2, in
 * parentheses) may itself hold spaces and parentheses: the fields are counted from the last ')'.
 */
export function parseCpuMs(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the name: state is field 3, so utime (field 14) and stime (15) are at 11 and 12.
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error(`unexpected /proc stat line: ${stat.slice(0, 80)}`);
  }
  return ((utime + stime) * 1000) / USER_HZ;
}

/** CPU ms used so far by `pid`; undefined elsewhere than Linux or once the process is gone. */
export async function cpuMs(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined || pid === 0) return undefined;
  try {
    return parseCpuMs(await readFile(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return undefined;
  }
}

/** cpuMs of each process, NaN where it cannot be read. */
export async function cpuMsAll(pids: readonly (number | undefined)[]): Promise<number[]> {
  const ms = await Promise.all(pids.map((pid) => cpuMs(pid)));
  return ms.map((x) => x ?? Number.NaN);
}
