// A push-to-pull bridge: the producer pushes frames, connect-node pulls them as the request body
// of a stream. push() resolves once the consumer took the frame (with up to `buffer` frames
// waiting), so a producer faster than the network waits instead of piling frames up in memory.
// If the consumer stops (the call failed), pending and later pushes reject with the reason.
export class Channel<T> implements AsyncIterable<T> {
  private readonly items: { value: T; taken: () => void }[] = [];
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private ended = false;
  private failure: unknown;
  private readonly rejecters = new Set<(e: unknown) => void>();

  constructor(private readonly buffer = 2) {}

  push(value: T): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.ended) return Promise.reject(new Error("channel ended"));
    return new Promise<void>((resolve, reject) => {
      const taken = (): void => {
        this.rejecters.delete(reject);
        resolve();
      };
      this.rejecters.add(reject);
      if (this.waiter) {
        const w = this.waiter;
        this.waiter = undefined;
        w({ value, done: false });
        taken();
        return;
      }
      this.items.push({ value, taken });
      // Within the buffer, the producer may go on before the consumer pulls.
      if (this.items.length <= this.buffer) taken();
    });
  }

  /** No more frames: the consumer sees the end after the queued ones. */
  end(): void {
    this.ended = true;
    if (this.items.length === 0 && this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  /** The consumer is gone: every pending push rejects with `reason`. */
  fail(reason: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = reason ?? new Error("channel failed");
    this.ended = true;
    this.items.length = 0;
    for (const r of this.rejecters) r(this.failure);
    this.rejecters.clear();
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w({ value: undefined, done: true });
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<T> {
    return {
      next: (): Promise<IteratorResult<T>> => {
        const item = this.items.shift();
        if (item) {
          item.taken();
          return Promise.resolve({ value: item.value, done: false });
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiter = resolve;
        });
      },
      return: (): Promise<IteratorResult<T>> => {
        this.fail(new Error("the stream stopped reading"));
        return Promise.resolve({ value: undefined, done: true });
      },
      // connect-es aborts a request body by throwing into it.
      throw: (e: unknown): Promise<IteratorResult<T>> => {
        this.fail(e ?? new Error("the stream failed"));
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/** Resolves with the iterator's next result, or with done when `signal` aborts first. */
export function nextOrStop<T>(
  it: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T, undefined>> {
  if (signal.aborted) return Promise.resolve({ value: undefined, done: true });
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve({ value: undefined, done: true });
    signal.addEventListener("abort", onAbort, { once: true });
    it.next().then(
      (r) => {
        signal.removeEventListener("abort", onAbort);
        resolve(r as IteratorResult<T, undefined>);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}
