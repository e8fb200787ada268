/**
 * Keeps this process's event loop busy `busyMs` out of every `periodMs`, so that the pool reacts late
 * to sshd's answers (a closed session is freed before the pool hears of it) as on a loaded host. Only
 * this process slows down: it costs at most one core, and the other jest worker keeps its own.
 */
export function hogEventLoop(busyMs = 15, periodMs = 20): { stop(): void } {
  const timer = setInterval(() => {
    const until = performance.now() + busyMs;
    while (performance.now() < until) {
      // spin: the loop can do nothing else meanwhile
    }
  }, periodMs);
  return { stop: () => clearInterval(timer) };
}
