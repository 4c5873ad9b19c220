// Change events: every applied revision yields the changes it made (put or delete, with the
// previous version), in the order the command made them; all events of one command share its
// revision. Listeners (the runtime's future watch hub) get them after the batch that produced
// them is committed, so they never see a change that a crash could undo.

import type { KvEventBatch } from "./types.js";

export type KvEventListener = (batch: KvEventBatch) => void;

export class EventHub {
  private readonly listeners = new Set<KvEventListener>();

  /** Adds a listener; the returned function removes it. */
  add(listener: KvEventListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  emit(batch: KvEventBatch): void {
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (e) {
        // The batch is applied and committed; a failing listener must not look like a failed
        // apply to the caller. Rethrow outside this call stack so the bug stays loud.
        queueMicrotask(() => {
          throw e;
        });
      }
    }
  }
}
