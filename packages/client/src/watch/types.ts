// The watch API: the same for the network client and the embedded engine's client. A watch
// streams the changes of a key, a prefix or a range as batches (one revision each, in revision
// order), from a past revision (replayed from history, then live) or from now. The network
// client resumes a broken stream on another node from the last revision it delivered + 1, so
// the application sees no gap and no duplicate.
import type { Bytes, CallOptions, KeyValue } from "../types.js";

export interface WatchOptions extends CallOptions {
  /** The key to watch; with rangeEnd, the start of the range. */
  readonly key?: Bytes;
  /** Watch every key starting with this (instead of key). An empty prefix watches every key. */
  readonly prefix?: Bytes;
  /** With key: watch [key, rangeEnd). "\0" means every key from key on (as etcd). */
  readonly rangeEnd?: Bytes;
  /**
   * The first revision to deliver (absent or 0: changes after the current revision). A
   * revision at or below the compacted revision cancels the watch (WatchCanceledError with
   * compactRevision).
   */
  readonly startRevision?: number;
  /** Deliver each change's previous version (WatchEvent.prevKv). */
  readonly prevKv?: boolean;
  /** Leave out puts. */
  readonly noPut?: boolean;
  /** Leave out deletes. */
  readonly noDelete?: boolean;
  /** Deliver periodic progress batches (no events, progress: true) while nothing changes. */
  readonly progressNotify?: boolean;
}

export interface WatchEvent {
  readonly type: "put" | "delete";
  /** The new version; for a delete, the key with modRevision = the deletion's revision. */
  readonly kv: KeyValue;
  /** The version before the change (if asked for with prevKv and the key existed). */
  readonly prevKv?: KeyValue;
}

export interface WatchBatch {
  /**
   * The revision of the events; for a progress batch, the revision the watch has delivered
   * everything up to (a later batch has a higher revision).
   */
  readonly revision: number;
  /** The matching changes of one revision, in the order the revision made them. */
  readonly events: readonly WatchEvent[];
  /** A progress notification (no events): the watch is caught up to `revision`. */
  readonly progress: boolean;
}

/**
 * A running watch. Iterate it with for-await; breaking out of the loop, cancel() or the
 * options' signal end it (the iterator then finishes normally). If the server ends it (the
 * start revision was compacted, or the watcher fell too far behind: reason "slow consumer"),
 * the iterator throws WatchCanceledError after the batches delivered before.
 */
export interface Watcher extends AsyncIterable<WatchBatch> {
  /** Asks for a progress batch (on demand): it comes after every batch already due. */
  requestProgress(): void;
  /** Ends the watch. */
  cancel(): void;
}
