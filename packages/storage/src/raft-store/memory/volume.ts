// The "disk" of the memory backend: what survives a store being closed and reopened (a simulated
// restart). The simulator keeps one volume per node and can hook every write to delay it (hold a
// promise) or fail it (throw), which is its disk fault model.
import type { Entry, HardState } from "@d-engine/core";

export type MemoryWriteKind = "log" | "hard-state" | "snapshot";

export interface MemoryVolumeHooks {
  /** Called before each durable write; may delay it (return a promise) or fail it (throw). */
  beforeWrite?(kind: MemoryWriteKind): void | Promise<void>;
}

export class MemoryVolume {
  /** The durable log: entries after (snapIndex, snapTerm). */
  log: { snapIndex: number; snapTerm: number; entries: Entry[] } = {
    snapIndex: 0,
    snapTerm: 0,
    entries: [],
  };
  hardState: HardState | undefined;
  /** Encoded snapshots by name. */
  readonly blobs = new Map<string, Uint8Array>();

  constructor(readonly hooks: MemoryVolumeHooks = {}) {}

  async beforeWrite(kind: MemoryWriteKind): Promise<void> {
    await this.hooks.beforeWrite?.(kind);
  }
}
