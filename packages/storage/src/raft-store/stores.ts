// The three stores of one node, opened together from one backend.
import type { HardStateStore } from "./hard-state-store.js";
import type { LogStore } from "./log-store.js";
import type { SnapshotStore } from "./snapshot-store.js";

export interface RaftStores {
  readonly log: LogStore;
  readonly hardState: HardStateStore;
  readonly snapshots: SnapshotStore;
  /** Waits for pending writes and closes all three. */
  close(): Promise<void>;
}

/** Closes stores in order, running every close even if one fails, then rethrows the first error. */
export async function closeAll(closers: readonly (() => Promise<void>)[]): Promise<void> {
  let first: unknown;
  for (const c of closers) {
    try {
      await c();
    } catch (e) {
      first ??= e;
    }
  }
  if (first !== undefined) throw first;
}

/** Bundles opened stores; close() closes the log, hard state, snapshots, then `more`, once. */
export function bundle(
  log: LogStore,
  hardState: HardStateStore,
  snapshots: SnapshotStore,
  more: readonly (() => Promise<void>)[],
): RaftStores {
  let closing: Promise<void> | undefined;
  return {
    log,
    hardState,
    snapshots,
    close: () => {
      closing ??= closeAll([
        () => log.close(),
        () => hardState.close(),
        () => snapshots.close(),
        ...more,
      ]);
      return closing;
    },
  };
}
