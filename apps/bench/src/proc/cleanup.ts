// Child processes must not outlive the benchmark, whatever ends it: every mode registers its
// stop here. On SIGINT/SIGTERM the stops run (bounded), then the process exits; on any exit the
// remaining child processes are killed synchronously as a last resort.
const stops = new Set<() => Promise<void>>();
const pids = new Set<number>();
let installed = false;
let stopping = false;

/** Whether a signal asked the benchmark to stop (no further scenario should start). */
export function shuttingDown(): boolean {
  return stopping;
}

/** Registers a stop to run on a signal; returns a function that unregisters it. */
export function onShutdown(stop: () => Promise<void>): () => void {
  install();
  stops.add(stop);
  return () => stops.delete(stop);
}

/** A child process to SIGKILL if the benchmark exits while it still runs. */
export function trackPid(pid: number | undefined): () => void {
  if (pid === undefined) return () => {};
  install();
  pids.add(pid);
  return () => pids.delete(pid);
}

/** Runs every registered stop (bounded); used on signals and on errors. */
export async function shutdownAll(timeoutMs = 15_000): Promise<void> {
  const all = Promise.allSettled([...stops].map((s) => s()));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    all,
    new Promise((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    }),
  ]);
  clearTimeout(timer);
  stops.clear();
}

function killTracked(): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  pids.clear();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    process.once(sig, () => {
      stopping = true;
      process.stderr.write(`\nbench: ${sig}: stopping the clusters\n`);
      void shutdownAll().finally(() => {
        killTracked();
        process.exit(130);
      });
    });
  }
  process.once("exit", killTracked);
}
