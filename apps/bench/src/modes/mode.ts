// A system under test: a running three-node cluster that runs a load and reports its processes'
// peak memory. d-engine embedded, d-engine standalone and etcd each implement it.
import type { LoadResult } from "../load/run-load.js";
import { onShutdown } from "../proc/cleanup.js";
import type { LoadSpec } from "../scenarios.js";

export type ModeName = "embedded" | "standalone" | "etcd";

export interface Mode {
  readonly name: ModeName;
  /** The server processes, the one serving the load first. */
  readonly pids: readonly number[];
  /** Where their data lives (removed by stop). */
  readonly dataDir: string;
  /** Untimed runs of the same kind before the timed one (run-load.ts, warmUp). */
  warmUp(spec: LoadSpec): Promise<void>;
  /** The timed run of `spec` (after warmUp). */
  run(spec: LoadSpec): Promise<LoadResult>;
  /** Writes the read scenarios' keys (untimed). */
  preload(spec: LoadSpec): Promise<void>;
  /** Peak RSS (VmHWM) of each server process in bytes, the one serving the load first. */
  peakRss(): Promise<number[]>;
  /** Stops every process and removes the data. Safe to call twice. */
  stop(): Promise<void>;
}

/** Options every mode gets from the command line. */
export interface ModeOptions {
  /** The most connections the logical clients share (network modes). */
  readonly connections: number;
  /** Deadline of each call. */
  readonly timeoutMs: number;
  /** Write a CPU profile of every d-engine node process into this directory. */
  readonly cpuProfDir?: string;
  /** d-engine: fsync the state machine on every applied batch. */
  readonly stateMachineFsync?: boolean;
}

/**
 * A mode's life around its processes: `stopCluster` runs once however many ask for it (a signal
 * and the benchmark's own finally all await the same run), is registered for signals while the
 * mode runs, and runs if `start` fails; the mode's stop() runs it and unregisters it.
 */
export async function guardMode(
  stopCluster: () => Promise<void>,
  start: () => Promise<Omit<Mode, "stop">>,
): Promise<Mode> {
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= stopCluster();
    return stopping;
  };
  const unregister = onShutdown(stop);
  try {
    const mode = await start();
    return {
      ...mode,
      async stop() {
        unregister();
        await stop();
      },
    };
  } catch (e) {
    unregister();
    await stop();
    throw e;
  }
}
