// Runs async sections one after another. The node loop processes each Ready inside it, and the
// few things that must not overlap a Ready (installing a received snapshot, saving a local one)
// queue behind it, so storage never sees two of them at once.
export class Serial {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn);
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.run(async () => undefined);
  }
}
