// The errors of the lock and election recipes. They are not server errors (DEngineError): they
// say what the recipe found, e.g. that the session's lease ended under it.

/** The session ended: its lease was lost (not renewed in time) or the session was closed. */
export class SessionEndedError extends Error {
  constructor(
    readonly leaseId: number,
    readonly reason: string,
    readonly lost: boolean,
  ) {
    super(`session of lease ${leaseId.toString(16)} ended: ${reason}`);
    this.name = "SessionEndedError";
  }
}

/**
 * The waiter's key vanished while it queued: its lease ended (expired or revoked) or someone
 * deleted the key. The lock or leadership was never obtained.
 */
export class QueueKeyLostError extends Error {
  constructor(readonly key: string) {
    super(`the queue key ${key} was deleted while waiting (its lease ended?)`);
    this.name = "QueueKeyLostError";
  }
}

/** This session already queues (or holds) under this name: one waiter per session and name. */
export class AlreadyQueuedError extends Error {
  constructor(readonly key: string) {
    super(`the key ${key} already exists: this session already waits for or holds it`);
    this.name = "AlreadyQueuedError";
  }
}

/** proclaim or resign by a campaigner that is not (or no longer) the leader. */
export class NotElectionLeaderError extends Error {
  constructor(readonly election: string) {
    super(`not the leader of election ${election}`);
    this.name = "NotElectionLeaderError";
  }
}
