// Waiting in tests: poll a condition on timers until it holds, or fail naming what was awaited.
// Never a fixed sleep.
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with `fn()`'s value once it stops throwing; fails with its last error at the deadline. */
export async function eventually<T>(
  fn: () => Promise<T>,
  what: string,
  timeoutMs = 10_000,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (e) {
      if (Date.now() > end) {
        throw new Error(`timed out after ${timeoutMs} ms: ${what}: ${(e as Error).message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}
