// Hard state in a MemoryVolume.
import { EMPTY_HARD_STATE, type HardState } from "@d-engine/core";
import { StorageError } from "../errors.js";
import type { HardStateStore } from "../hard-state-store.js";
import { GroupCommitQueue } from "../write-queue.js";
import type { MemoryVolume } from "./volume.js";

export function openMemoryHardState(volume: MemoryVolume): HardStateStore {
  return new MemoryHardStateStore(volume);
}

class MemoryHardStateStore implements HardStateStore {
  private current: HardState;
  private readonly queue: GroupCommitQueue<HardState>;
  private closed = false;

  constructor(volume: MemoryVolume) {
    this.current = volume.hardState ?? EMPTY_HARD_STATE;
    this.queue = new GroupCommitQueue(async (states) => {
      await volume.beforeWrite("hard-state");
      volume.hardState = states[states.length - 1];
    }, "memory hard state");
  }

  load(): HardState {
    return this.current;
  }

  save(hs: HardState): Promise<void> {
    if (this.closed)
      return Promise.reject(new StorageError("closed", "memory hard state is closed"));
    this.current = hs;
    return this.queue.push(hs);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.drain();
  }
}
