// Hard state as one record of the LMDB env's metadata table, written in a synced transaction.
import { EMPTY_HARD_STATE, type HardState } from "@d-engine/core";
import { decodeHardState, encodeHardState } from "../codec.js";
import { StorageError } from "../errors.js";
import type { HardStateStore } from "../hard-state-store.js";
import { GroupCommitQueue } from "../write-queue.js";
import { HARD_STATE_KEY, type LmdbEnv } from "./lmdb-env.js";

export function openLmdbHardState(env: LmdbEnv): HardStateStore {
  const bytes = env.meta.getBinary(HARD_STATE_KEY);
  let hs = EMPTY_HARD_STATE;
  if (bytes) {
    try {
      hs = decodeHardState(bytes);
    } catch (e) {
      throw new StorageError(
        "corrupt",
        `${env.path}: hard state does not decode: ${String(e)}`,
        env.path,
      );
    }
  }
  return new LmdbHardStateStore(env, hs);
}

class LmdbHardStateStore implements HardStateStore {
  private readonly queue: GroupCommitQueue<HardState>;
  private closed = false;

  constructor(
    private readonly env: LmdbEnv,
    private current: HardState,
  ) {
    this.queue = new GroupCommitQueue(async (states) => {
      await env.meta.put(
        HARD_STATE_KEY,
        Buffer.from(encodeHardState(states[states.length - 1] as HardState)),
      );
      await env.flushed();
    }, `LMDB hard state ${env.path}`);
  }

  load(): HardState {
    return this.current;
  }

  save(hs: HardState): Promise<void> {
    if (this.closed) {
      return Promise.reject(
        new StorageError("closed", `LMDB hard state ${this.env.path} is closed`),
      );
    }
    this.current = hs;
    return this.queue.push(hs);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue.drain();
  }
}
