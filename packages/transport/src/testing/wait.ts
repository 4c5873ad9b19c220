// Waiting for a condition in tests: polls on the event loop until it holds or the bound passes
// (then the test fails with `what`). Never a fixed sleep.
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = performance.now() + timeoutMs;
  while (!cond()) {
    if (performance.now() > end)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** A promise with its resolve function, for "the server got the call" style events. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (v: T) => void } {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A peer handler that ignores everything (servers under test that only serve the API). */
export const nullPeerHandler = {
  onMessages(): void {},
  async receiveSnapshot(): Promise<never> {
    throw new Error("no snapshots here");
  },
};
