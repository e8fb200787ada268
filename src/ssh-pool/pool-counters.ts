import { NO_POOL_OBSERVER, type PoolObserver } from './pool-observer.js';
import type { PooledConnection } from './pooled-connection.js';
import type { SshPoolErrorCode } from './ssh-pool.errors.js';
import type { EvictionReason, PoolStats } from './ssh-pool.types.js';

/** Monotonic counters since start; the snapshot fields are computed from live connections. */
export class PoolCounters {
  hits = 0;
  misses = 0;
  connects = 0;
  connectFailures = 0;
  refusals = 0;
  commands = 0;
  spareHits = 0;
  readonly evictions: Record<EvictionReason, number> = { idle: 0, lifetime: 0, dead: 0, removed: 0, closed: 0, shutdown: 0, stuck: 0 };
  observer: PoolObserver = NO_POOL_OBSERVER;

  /** A connect attempt that began at `startedAt` (performance.now()) ended, failing with `failure`. */
  recordConnect(startedAt: number, failure?: SshPoolErrorCode): void {
    if (failure) this.connectFailures++;
    else this.connects++;
    this.observer.connectFinished(secondsSince(startedAt), failure);
  }

  /** An exec call that began at `startedAt` ended; only successful ones count as commands. */
  recordExec(startedAt: number, failure?: SshPoolErrorCode | 'error'): void {
    if (!failure) this.commands++;
    this.observer.execFinished(secondsSince(startedAt), failure);
  }

  snapshot(
    connections: PooledConnection[],
    live: { enabled: boolean; keys: number; waiters: number; connecting: number; idleTimeoutMs: number; maxLifetimeMs: number },
  ): PoolStats {
    const inUse = connections.filter((c) => c.channelsInUse > 0).length;
    return {
      total_connections: connections.length,
      alive_connections: connections.filter((c) => c.alive).length,
      in_use_connections: inUse,
      idle_connections: connections.length - inUse,
      idle_timeout: live.idleTimeoutMs / 1000,
      max_lifetime: live.maxLifetimeMs / 1000,
      enabled: live.enabled,
      keys: live.keys,
      channels_in_use: connections.reduce((sum, c) => sum + c.channelsInUse, 0),
      waiters: live.waiters,
      connecting: live.connecting,
      hits: this.hits,
      misses: this.misses,
      connects: this.connects,
      connect_failures: this.connectFailures,
      channel_open_refusals: this.refusals,
      commands: this.commands,
      spare_channels: connections.reduce((sum, c) => sum + c.spares.readyCount, 0),
      spare_hits: this.spareHits,
      evictions: { ...this.evictions },
    };
  }
}

const secondsSince = (startedAt: number): number => (performance.now() - startedAt) / 1000;
