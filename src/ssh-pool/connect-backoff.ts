import type { ConnectionKey } from './connection-key.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';

/** Failures of one host before it is treated as down. */
const DOWN_AFTER_FAILURES = 2;
const BASE_DELAY_MS = 1000;
const MAX_DELAY_MS = 60_000;
/** A rejected credential is not tried again for this long (doubling, capped): sshd penalises guessing. */
const AUTH_COOLDOWN_MS = 30_000;
const MAX_AUTH_COOLDOWN_MS = 600_000;

interface FailureState {
  failures: number;
  until: number;
  error: SshPoolError;
}

/**
 * Remembers failed connects: an unreachable host backs off exponentially with jitter (fail fast with
 * SSH_HOST_DOWN meanwhile), a rejected credential is not retried in a loop. `clear` forgets both.
 */
export class ConnectBackoff {
  private readonly hosts = new Map<string, FailureState>();
  private readonly credentials = new Map<string, FailureState>();

  constructor(private readonly random: () => number = Math.random) {}

  /** @throws SshPoolError SSH_HOST_DOWN or SSH_AUTH_FAILED while the key's host or credential is cooling down. */
  admit(key: ConnectionKey, now: number): void {
    const host = this.hosts.get(key.hostId);
    if (host && host.until > now) {
      throw new SshPoolError(SshPoolErrorCode.HOST_DOWN, `${key.hostId} is down after ${host.failures} failed connects (${host.error.code}); next attempt in ${host.until - now} ms`, {
        retryAfterMs: host.until - now,
      });
    }
    const credential = this.credentials.get(key.id);
    if (credential && credential.until > now) {
      throw new SshPoolError(SshPoolErrorCode.AUTH_FAILED, `authentication for ${key} failed recently; not retried for ${credential.until - now} ms (reconnect clears this)`, {
        retryAfterMs: credential.until - now,
      });
    }
  }

  recordFailure(key: ConnectionKey, error: SshPoolError, now: number): void {
    if (error.code === SshPoolErrorCode.AUTH_FAILED) {
      const failures = (this.credentials.get(key.id)?.failures ?? 0) + 1;
      const delay = Math.min(MAX_AUTH_COOLDOWN_MS, AUTH_COOLDOWN_MS * 2 ** (failures - 1));
      this.credentials.set(key.id, { failures, until: now + delay, error });
    } else if (error.code === SshPoolErrorCode.UNREACHABLE || error.code === SshPoolErrorCode.CONNECT_TIMEOUT) {
      const failures = (this.hosts.get(key.hostId)?.failures ?? 0) + 1;
      const until = failures < DOWN_AFTER_FAILURES ? now : now + this.jittered(failures - DOWN_AFTER_FAILURES);
      this.hosts.set(key.hostId, { failures, until, error });
    }
  }

  recordSuccess(key: ConnectionKey): void {
    this.hosts.delete(key.hostId);
    this.credentials.delete(key.id);
  }

  /** Forget the host's and the credential's failures (manual reconnect). */
  clear(key: ConnectionKey): void {
    this.recordSuccess(key);
  }

  isHostDown(hostId: string, now: number): boolean {
    return (this.hosts.get(hostId)?.until ?? 0) > now;
  }

  hostsDown(now: number): number {
    let down = 0;
    for (const state of this.hosts.values()) if (state.until > now) down++;
    return down;
  }

  /** Full jitter over an exponentially growing window: between half and all of it. */
  private jittered(step: number): number {
    const window = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** step);
    return Math.round(window * (0.5 + this.random() / 2));
  }
}
