import type { LoggerService } from '@nestjs/common';

/**
 * Peers' protocol errors (a malformed frame, a frame without an id) as one short warning each, at most
 * `burst` per `windowMs`: a peer that sends garbage in a loop cannot flood the log. The first line of
 * the next window says how many were left out.
 */
export class PeerErrorLog {
  private windowStart = Number.NEGATIVE_INFINITY;
  private written = 0;
  private suppressed = 0;

  constructor(
    private readonly logger: Pick<LoggerService, 'warn'>,
    private readonly burst = 5,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(line: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      if (this.suppressed > 0) line = `${line} (and ${this.suppressed} more peer error(s) not logged in the last ${this.windowMs / 1000} s)`;
      this.windowStart = now;
      this.written = 0;
      this.suppressed = 0;
    }
    if (this.written >= this.burst) {
      this.suppressed++;
      return;
    }
    this.written++;
    this.logger.warn(line, 'InternalTcpServer');
  }
}
