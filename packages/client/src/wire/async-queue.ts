// A queue read with `for await`: the producer pushes without waiting (it watches `size` and
// onTaken for backpressure of its own), ends it, or fails it, which the consumer sees as an
// error thrown by the loop once the items before it are taken.
export class AsyncQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failWaiter: ((e: unknown) => void) | undefined;
  private ended = false;
  private failure: unknown;
  /** Called after the consumer takes an item. */
  onTaken: (() => void) | undefined;

  /** Items pushed and not yet taken. */
  get size(): number {
    return this.items.length - this.head;
  }

  push(value: T): void {
    if (this.ended) return;
    const w = this.waiter;
    if (w) {
      this.clearWaiter();
      w({ value, done: false });
      this.onTaken?.();
      return;
    }
    this.items.push(value);
  }

  /** No more items: the consumer's loop ends after the queued ones. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    const w = this.waiter;
    if (w && this.size === 0) {
      this.clearWaiter();
      w({ value: undefined, done: true });
    }
  }

  /** The consumer's loop throws `e` after the queued items. */
  fail(e: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = e ?? new Error("the queue failed");
    const f = this.failWaiter;
    if (f && this.size === 0) {
      this.clearWaiter();
      f(this.failure);
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: () => {
        if (this.size > 0) {
          const value = this.take();
          this.onTaken?.();
          return Promise.resolve({ value, done: false });
        }
        if (this.failure !== undefined) return Promise.reject(this.failure);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise<IteratorResult<T>>((resolve, reject) => {
          this.waiter = resolve;
          this.failWaiter = reject;
        });
      },
      return: () => {
        this.end();
        this.items.length = 0;
        this.head = 0;
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }

  private take(): T {
    const value = this.items[this.head] as T;
    this.items[this.head] = undefined as T;
    this.head++;
    // Drop the taken prefix now and then, so that a long stream does not grow the array.
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head >= 1024) {
      this.items.splice(0, this.head);
      this.head = 0;
    }
    return value;
  }

  private clearWaiter(): void {
    this.waiter = undefined;
    this.failWaiter = undefined;
  }
}
