/**
 * Polls `predicate` every 20 ms until it holds; after `timeoutMs` rejects with `describe()` (or the
 * string), so a failure says what was awaited.
 */
export async function eventually(what: string | (() => string), predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) {
      throw new Error(typeof what === 'string' ? `timed out after ${timeoutMs} ms waiting for ${what}` : what());
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
