import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { PoolObserver } from '../ssh-pool/pool-observer.js';
import type { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { ConnectionInfo, EvictionReason } from '../ssh-pool/ssh-pool.types.js';

export const METRIC_PREFIX = 'cs2_ssh_pool_';

/** From a LAN handshake (~10 ms) up to and past the default SSH_READY_TIMEOUT_MS (15 s). */
const CONNECT_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];
/** From a reused channel (~3 ms) up to long maintenance commands. */
export const COMMAND_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

type ConnectionState = 'idle' | 'busy' | 'retiring';
const STATES: ConnectionState[] = ['idle', 'busy', 'retiring'];

const stateOf = (c: ConnectionInfo): ConnectionState => (c.retiring ? 'retiring' : c.channelsInUse > 0 ? 'busy' : 'idle');

/**
 * Registers the pool's metrics on `registry`. Live values and the counts the pool keeps anyway are
 * read from the pool at scrape time (no second set of counters to drift); durations and connect
 * failure codes, which a snapshot cannot give, arrive through the returned observer.
 */
export function registerPoolMetrics(registry: Registry, pool: SshPoolService): PoolObserver {
  const registers = [registry];
  registerGauges(registry, pool);
  registerCounters(registry, pool);
  const connectDuration = new Histogram({
    name: `${METRIC_PREFIX}connect_duration_seconds`,
    help: 'Time to open and authenticate one SSH connection, by outcome (success, failure).',
    labelNames: ['outcome'] as const,
    buckets: CONNECT_BUCKETS,
    registers,
  });
  const connectFailures = new Counter({
    name: `${METRIC_PREFIX}connect_failures_total`,
    help: 'Failed SSH connects by reason (the error code, e.g. SSH_UNREACHABLE, SSH_AUTH_FAILED).',
    labelNames: ['reason'] as const,
    registers,
  });
  const execDuration = new Histogram({
    name: `${METRIC_PREFIX}exec_duration_seconds`,
    help: 'Duration of one pooled command as the caller sees it (queueing, connecting and running), by outcome (ok or the error code).',
    labelNames: ['outcome'] as const,
    buckets: COMMAND_BUCKETS,
    registers,
  });
  return {
    connectFinished(seconds, failure) {
      connectDuration.observe({ outcome: failure ? 'failure' : 'success' }, seconds);
      if (failure) connectFailures.inc({ reason: failure });
    },
    execFinished(seconds, failure) {
      execDuration.observe({ outcome: failure ?? 'ok' }, seconds);
    },
  };
}

function registerGauges(registry: Registry, pool: SshPoolService): void {
  const registers = [registry];
  new Gauge({
    name: `${METRIC_PREFIX}connections`,
    help: 'Pooled SSH connections by state: idle, busy (a channel in use), retiring (closes when its last command ends).',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<ConnectionState, number>;
      for (const connection of pool.getConnections()) counts[stateOf(connection)]++;
      for (const state of STATES) this.set({ state }, counts[state]);
    },
  });
  const live: [name: string, help: string, read: () => number][] = [
    ['channels_in_use', 'Exec channels reserved or open across all pooled connections.', () => pool.getStats().channels_in_use],
    ['waiters', 'Requests queued for a free channel.', () => pool.getStats().waiters],
    ['connects_in_progress', 'SSH connects under way.', () => pool.getStats().connecting],
    ['hosts_backing_off', 'Hosts failing fast with SSH_HOST_DOWN after repeated connect failures.', () => pool.countHostsDown()],
  ];
  for (const [name, help, read] of live) {
    new Gauge({ name: `${METRIC_PREFIX}${name}`, help, registers, collect() { this.set(read()); } });
  }
}

function registerCounters(registry: Registry, pool: SshPoolService): void {
  const registers = [registry];
  new Counter({
    name: `${METRIC_PREFIX}acquisitions_total`,
    help: 'Channel acquisitions: hit (a pooled connection had a free channel at once) or miss (waited or connected).',
    labelNames: ['result'] as const,
    registers,
    collect() {
      const { hits, misses } = pool.getStats();
      this.reset();
      this.inc({ result: 'hit' }, hits);
      this.inc({ result: 'miss' }, misses);
    },
  });
  new Counter({
    name: `${METRIC_PREFIX}evictions_total`,
    help: 'Pooled connections closed, by reason: idle, lifetime, dead, removed, closed (close-all), shutdown, stuck (a channel close the server never confirmed).',
    labelNames: ['reason'] as const,
    registers,
    collect() {
      const { evictions } = pool.getStats();
      this.reset();
      for (const reason of Object.keys(evictions) as EvictionReason[]) this.inc({ reason }, evictions[reason]);
    },
  });
  const totals: [name: string, help: string, read: () => number][] = [
    ['connects_total', 'Successful SSH connects (handshake and authentication).', () => pool.getStats().connects],
    ['channel_open_refusals_total', "Channel opens the server refused (sshd's MaxSessions); the open is retried.", () => pool.getStats().channel_open_refusals],
  ];
  for (const [name, help, read] of totals) {
    new Counter({
      name: `${METRIC_PREFIX}${name}`,
      help,
      registers,
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  }
}
