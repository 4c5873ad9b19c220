// A queue between a producer that pushes as values arrive and one consumer that pulls them with
// next(): the network client reads its server streams (watches) eagerly into one of these and
// hands it out as an async iterator. Ending it is final; the consumer still gets what was queued
// before the end, then the end's error (once) or done.

export class PullQueue<T> {
  private readonly items: T[] = [];
  private endState: { error?: Error } | undefined;
  private wake: (() => void) | undefined;

  get length(): number {
    return this.items.length;
  }

  get ended(): boolean {
    return this.endState !== undefined;
  }

  push(value: T): void {
    this.items.push(value);
    this.wake?.();
  }

  /** Ends the queue, with an error for the consumer if given. False if it had already ended. */
  end(error?: Error): boolean {
    if (this.endState !== undefined) return false;
    this.endState = error === undefined ? {} : { error };
    this.wake?.();
    return true;
  }

  /** Drops what is queued and any error not yet seen: the consumer sees done once it has ended. */
  discard(): void {
    this.items.length = 0;
    if (this.endState !== undefined) this.endState = {};
  }

  async next(): Promise<IteratorResult<T>> {
    for (;;) {
      if (this.items.length > 0) return { done: false, value: this.items.shift() as T };
      if (this.endState !== undefined) {
        const e = this.endState.error;
        this.endState = {};
        if (e !== undefined) throw e;
        return { done: true, value: undefined };
      }
      await new Promise<void>((r) => {
        this.wake = r;
      });
      this.wake = undefined;
    }
  }
}
