// IPC with the benchmark's forked helper processes (the disk and floor probes).
import type { ChildProcess } from "node:child_process";

/** The child's next IPC message; rejects, naming the child as `who`, if it exits first. */
export function nextMessage(child: ChildProcess, who: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`${who} exited (code ${code}) before answering`));
    child.once("exit", onExit);
    child.once("message", (m) => {
      child.off("exit", onExit);
      resolve(m);
    });
  });
}
