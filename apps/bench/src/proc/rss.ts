// Peak resident memory of a process, from Linux's /proc/<pid>/status (VmHWM, the high-water mark
// of its RSS since it started). Elsewhere, or once the process is gone: undefined.
import { readFile } from "node:fs/promises";

export async function peakRssBytes(pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined) return undefined;
  try {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** peakRssBytes of each process, 0 where it cannot be read. */
export async function peakRssAll(pids: readonly (number | undefined)[]): Promise<number[]> {
  const rss = await Promise.all(pids.map((pid) => peakRssBytes(pid)));
  return rss.map((b) => b ?? 0);
}
