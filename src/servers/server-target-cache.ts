import type { PreparedTarget } from './ssh-target.factory.js';

interface Entry {
  target: Promise<PreparedTarget>;
  /** Counted from when the load started, so that no entry is older than the TTL since its row was read. */
  expiresAt: number;
}

/**
 * Each server's prepared target (row read, secrets decrypted) for the exec path, so that a command
 * pays for neither. Concurrent misses share one load; failed loads are not kept. An
 * entry lives until `invalidate` (the server changed, here or on another replica) or at most `ttlMs`,
 * the backstop for a change notification that never arrived. Secrets stay in this process's memory as
 * they already do in the pool's authenticated connections.
 */
export class ServerTargetCache {
  private readonly entries = new Map<string, Entry>();
  private nextSweep = 0;

  constructor(
    readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The cached target, or `load()`'s once it resolves; a rejection reaches every caller sharing it. */
  get(serverId: string, load: () => Promise<PreparedTarget>): Promise<PreparedTarget> {
    const now = this.now();
    const cached = this.entries.get(serverId);
    if (cached !== undefined && cached.expiresAt > now) return cached.target;
    if (this.ttlMs === 0) return load();
    this.sweep(now);
    const entry: Entry = { target: load(), expiresAt: now + this.ttlMs };
    this.entries.set(serverId, entry);
    entry.target.catch(() => this.drop(serverId, entry));
    return entry.target;
  }

  /** Loads anew, whatever is cached, and keeps the result for the next `get`. */
  refresh(serverId: string, load: () => Promise<PreparedTarget>): Promise<PreparedTarget> {
    this.entries.delete(serverId);
    return this.get(serverId, load);
  }

  /** The server changed or is gone: the next `get` loads it. A load already running is not kept. */
  invalidate(serverId: string): void {
    this.entries.delete(serverId);
  }

  /** Changes may have been missed (the notification channel was down): forget every server. */
  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(serverId: string, entry: Entry): void {
    if (this.entries.get(serverId) === entry) this.entries.delete(serverId);
  }

  /** Servers nobody runs commands on any more must not keep their secrets in memory: expired entries go once per TTL. */
  private sweep(now: number): void {
    if (now < this.nextSweep) return;
    this.nextSweep = now + this.ttlMs;
    for (const [serverId, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(serverId);
  }
}
