/**
 * Single flight plus a short cache for host probes. A probe covers a set of game directories; a
 * caller whose directories it covers shares it while it runs and, for `ttlMs` after, its result.
 * `start` must not reject: failures are part of the result (a cached failure is served like any other).
 */
export class ProbeFlights<T> {
  private readonly entries = new Map<string, { scope: ReadonlySet<string>; result: Promise<T>; settledAt: number | null }>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  run(key: string, scope: readonly string[], start: () => Promise<T>): Promise<T> {
    this.forgetExpired();
    const entry = this.entries.get(key);
    if (entry && scope.every((item) => entry.scope.has(item))) return entry.result;
    const fresh = { scope: new Set(scope), result: start(), settledAt: null as number | null };
    this.entries.set(key, fresh);
    const settle = () => {
      fresh.settledAt = this.now();
      this.forgetExpired();
    };
    fresh.result.then(settle, settle);
    return fresh.result;
  }

  /** Forgets every result: the next caller probes afresh (a probe in flight still answers its callers). */
  clear(): void {
    this.entries.clear();
  }

  private forgetExpired(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) {
      if (entry.settledAt !== null && now - entry.settledAt >= this.ttlMs) this.entries.delete(key);
    }
  }
}

/** The time allowed ran out before the task (or its next step) could start. */
export class DeadlinePassedError extends Error {
  override name = 'DeadlinePassedError';
}

/** At most `limit` tasks at a time, the rest in FIFO order. */
export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly limit: number) {}

  /** @throws DeadlinePassedError when no slot freed within `waitMs` (the task is then not run) */
  async run<T>(task: () => Promise<T>, waitMs = Infinity): Promise<T> {
    if (this.active < this.limit) this.active++;
    else await this.slot(waitMs);
    try {
      return await task();
    } finally {
      // Hand the slot straight to the next task so that no newcomer can overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  private slot(waitMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = Number.isFinite(waitMs)
        ? setTimeout(() => {
            this.waiting.splice(this.waiting.indexOf(grant), 1);
            reject(new DeadlinePassedError(`no probe slot within ${waitMs} ms`));
          }, waitMs)
        : undefined;
      this.waiting.push(grant);
    });
  }
}
