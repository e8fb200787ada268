import { Inject, Injectable, Logger, type BeforeApplicationShutdown, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { AppConfig, PoolConfig, SshConfig } from '../config/configuration.js';
import { ConnectBackoff } from './connect-backoff.js';
import { collectOutput, runChannel, type CommandOutput } from './exec-runner.js';
import { HOST_KEY_STORE, type HostKeyStore } from './host-key-store.js';
import { KeyDecoder } from './key-decoder.js';
import { PoolCounters } from './pool-counters.js';
import { PoolDialer } from './pool-dialer.js';
import { PoolGroups } from './pool-groups.js';
import type { PoolObserver } from './pool-observer.js';
import { checkedOutcome, execFailure, execOnGroup, killChannel, raceAbort } from './pooled-exec.js';
import { PooledConnection } from './pooled-connection.js';
import { retireEach } from './retire.js';
import { SshConnector, type ChannelExit, type ChannelOutcome, type SshChannel } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type {
  ClosedConnections,
  ConnectionInfo,
  EvictionReason,
  ExecOptions,
  ExecResult,
  PoolStats,
  SshTarget,
  StreamOptions,
  TargetConnections,
} from './ssh-pool.types.js';
import { TargetPolicy } from './target-policy.js';

const CLEANUP_INTERVAL_NAME = 'ssh-pool-cleanup';

/** Reads a started command to its end: collects its output, or streams it. */
type Consumer<T extends ChannelOutcome> = (channel: SshChannel, abort: AbortSignal) => Promise<T>;

/**
 * Keeps one authenticated SSH connection per (host, port, user, credentials) and multiplexes every
 * command over it, scaling to a few connections per key when the server's channel limit is reached.
 */
@Injectable()
export class SshPoolService implements OnModuleInit, OnModuleDestroy, BeforeApplicationShutdown {
  private readonly logger = new Logger(SshPoolService.name);
  private readonly pool: PoolConfig;
  private readonly ssh: SshConfig;
  private readonly groups: PoolGroups;
  private readonly backoff = new ConnectBackoff();
  private readonly counters = new PoolCounters();
  private readonly inFlight = new Set<AbortController>();
  private readonly dialer: PoolDialer;
  private cleanupRunning = false;
  private shuttingDown = false;
  private drained: Promise<void> | undefined;

  constructor(
    config: ConfigService<AppConfig, true>,
    connector: SshConnector,
    @Inject(HOST_KEY_STORE) hostKeys: HostKeyStore,
    private readonly scheduler: SchedulerRegistry,
    keys: KeyDecoder,
    targets: TargetPolicy,
  ) {
    this.pool = config.get('pool', { infer: true });
    this.ssh = config.get('ssh', { infer: true });
    this.dialer = new PoolDialer({ connector, hostKeys, keys, targets }, this.ssh, this.backoff, this.counters, this.logger);
    this.dialer.spareChannels = this.pool.enabled && this.pool.spareChannels;
    this.groups = new PoolGroups({ pool: this.pool, ssh: this.ssh, dialer: this.dialer, backoff: this.backoff, evicted: (c, reason) => this.onEvicted(c, reason) });
  }

  onModuleInit(): void {
    const interval = setInterval(() => void this.cleanup(), this.pool.cleanupIntervalMs);
    this.scheduler.addInterval(CLEANUP_INTERVAL_NAME, interval);
    if (this.ssh.hostKeyPolicy === 'off') this.logger.warn('HOST_KEY_POLICY=off: SSH host keys are NOT verified (insecure)');
    this.logger.log(
      this.pool.enabled ? 'SSH connection pool started' : 'SSH connection pool disabled: one connection per operation',
    );
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', CLEANUP_INTERVAL_NAME)) this.scheduler.deleteInterval(CLEANUP_INTERVAL_NAME);
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.shutdown();
  }

  /**
   * Runs `command` on the target's host through its pooled connection.
   * A non-zero exit is a result, not an error.
   * @throws SshPoolError EXEC_TIMEOUT (remote command killed), SSH_AUTH_FAILED, SSH_UNREACHABLE,
   *   SSH_HOST_KEY_MISMATCH, SSH_CONNECT_TIMEOUT, SSH_HOST_DOWN, SSH_CHANNEL_FAILED, SSH_OUTCOME_UNKNOWN (the command
   *   may have run; never retried), POOL_SHUTTING_DOWN,
   *   SSH_KEY_INVALID, SSH_TARGET_FORBIDDEN
   */
  async exec(target: SshTarget, command: string, options: ExecOptions = {}): Promise<ExecResult> {
    const started = performance.now();
    try {
      const consume: Consumer<CommandOutput> = (channel, abort) => collectOutput(channel, this.ssh.maxOutputBytes, abort);
      const output = await this.run(target, command, options.timeoutMs ?? this.ssh.execTimeoutMs, undefined, consume);
      this.counters.recordExec(started);
      const { exitCode, signal, stdout, stderr, truncated } = output;
      return { exitCode, signal, stdout, stderr, truncated, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      this.counters.recordExec(started, error instanceof SshPoolError ? error.code : 'error');
      throw error;
    }
  }

  /**
   * Runs a long command (a server operation) on the target's pooled connection, handing its output
   * to `options.sink` as it arrives. It holds its channel as long as it runs: idle cleanup and
   * lifetime recycling wait for it, shutdown for up to its grace period. Aborting `options.signal`
   * stops the remote process group (SIGTERM, SIGKILL after `termGraceMs`) and rejects with the
   * signal's reason once the channel closed.
   * @throws SshPoolError as `exec` does (EXEC_TIMEOUT after `timeoutMs`)
   */
  async stream(target: SshTarget, command: string, options: StreamOptions): Promise<ChannelExit> {
    const { sink, termGraceMs } = options;
    const consume: Consumer<ChannelOutcome> = (channel, abort) => runChannel(channel, { abort, sink, termGraceMs });
    const { exitCode, signal } = await this.run(target, command, options.timeoutMs, options.signal, consume);
    return { exitCode, signal };
  }

  getStats(): PoolStats {
    const groups = this.groups.all();
    return this.counters.snapshot(this.groups.connections(), {
      enabled: this.pool.enabled,
      keys: groups.filter((g) => g.connections.length > 0).length,
      waiters: groups.reduce((sum, g) => sum + g.waiting, 0),
      connecting: groups.reduce((sum, g) => sum + g.connectsInProgress, 0),
      idleTimeoutMs: this.pool.idleTimeoutMs,
      maxLifetimeMs: this.pool.maxLifetimeMs,
    });
  }

  /** Hosts (host:port) currently failing fast with SSH_HOST_DOWN. */
  countHostsDown(): number {
    return this.backoff.hostsDown(Date.now());
  }

  /** Hands the pool's timings (connect, exec) to `observer`, e.g. the Prometheus metrics. */
  setObserver(observer: PoolObserver): void {
    this.counters.observer = observer;
  }

  getConnections(): ConnectionInfo[] {
    const now = Date.now();
    return this.groups.connections().map((c) => c.info(now));
  }

  /** The connections that `target` shares (same key), and whether its host is backing off. */
  getConnectionsFor(target: SshTarget): TargetConnections {
    const key = this.groups.keyOf(target);
    const now = Date.now();
    const connections = this.groups.existing(target)?.connections ?? [];
    return { key: key.display, hostDown: this.backoff.isHostDown(key.hostId, now), connections: connections.map((c) => c.info(now)) };
  }

  /** Takes a server off its connections (its fields changed, or it was deleted); unused ones close after their commands. */
  async detachServer(serverId: string): Promise<void> {
    for (const [group, connection] of this.groups.connectionsOf(serverId)) {
      connection.serverIds.delete(serverId);
      if (connection.serverIds.size === 0) group.retire(connection, 'removed');
    }
  }

  /**
   * Closes the connections the server has used and, given its target, those of its key (which it
   * would use next); busy ones take no new command and close when their running ones end.
   */
  async removeServerConnections(serverId: string, target?: SshTarget): Promise<ClosedConnections> {
    const used = this.groups.connectionsOf(serverId);
    const group = target && this.groups.existing(target);
    const sameKey = group ? group.connections.filter((c) => !used.some(([, u]) => u === c)).map((c) => [group, c] as const) : [];
    return retireEach([...used, ...sameKey], 'removed');
  }

  /** Closes every pooled connection; busy ones take no new command and close when their running ones end. */
  async closeAll(reason: EvictionReason = 'closed'): Promise<ClosedConnections> {
    return retireEach(this.groups.all().flatMap((g) => g.connections.map((c) => [g, c] as const)), reason);
  }

  /**
   * Forgets the target's backoff state and opens a fresh connection; the key's older connections
   * then retire (after their running commands). On failure they stay in service. Concurrent
   * reconnects of one key share one fresh connection.
   * With the pool disabled it only proves that a connection can be made, and closes it.
   * @throws SshPoolError as `exec` does for connecting
   */
  async reconnect(target: SshTarget): Promise<ConnectionInfo> {
    this.assertAccepting();
    const key = this.groups.keyOf(target);
    this.backoff.clear(key);
    if (!this.pool.enabled) {
      const probe = new PooledConnection(key, await this.dialer.dial(target, key), Date.now(), 0, 0);
      probe.connection.close();
      probe.alive = false;
      return probe.info(Date.now());
    }
    const fresh = await this.groups.for(target).reconnect();
    if (target.serverId) fresh.serverIds.add(target.serverId);
    return fresh.info(Date.now());
  }

  /**
   * The scheduled tick: retire connections past their lifetime or idle timeout, forget empty keys.
   * Never overlaps itself. @returns how many connections it closed.
   */
  async cleanup(now: number = Date.now()): Promise<number> {
    if (this.cleanupRunning) return 0;
    this.cleanupRunning = true;
    try {
      const removed = this.groups.cleanup(now);
      if (removed > 0) this.logger.log(`Pool cleanup closed ${removed} connection(s)`);
      return removed;
    } finally {
      this.cleanupRunning = false;
    }
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /**
   * Refuse new work, let running commands finish within the grace period, close every connection.
   * Every caller waits for the same drain.
   */
  shutdown(): Promise<void> {
    this.drained ??= this.drain();
    return this.drained;
  }

  private async drain(): Promise<void> {
    this.shuttingDown = true;
    this.logger.log(`SSH connection pool shutting down: refusing new work, draining ${this.inFlight.size} command(s)`);
    const refusal = new SshPoolError(SshPoolErrorCode.SHUTTING_DOWN, 'the SSH pool is shutting down');
    for (const group of this.groups.all()) group.failWaiters(refusal);
    const deadline = Date.now() + this.pool.shutdownGraceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const controller of this.inFlight) controller.abort(refusal);
    for (const group of this.groups.all()) {
      for (const connection of [...group.connections]) group.evict(connection, 'shutdown');
    }
    this.logger.log('SSH connection pool stopped');
  }

  /** The deadline (`timeoutMs`) and the caller's `external` abort both stop the command; shutdown waits for it. */
  private async run<T extends ChannelOutcome>(
    target: SshTarget,
    command: string,
    timeoutMs: number,
    external: AbortSignal | undefined,
    consume: Consumer<T>,
  ): Promise<T> {
    this.assertAccepting();
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, `command did not finish within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const forward = () => controller.abort(external?.reason);
    if (external?.aborted) forward();
    else external?.addEventListener('abort', forward, { once: true });
    this.inFlight.add(controller);
    try {
      return this.pool.enabled
        ? await this.execPooled(target, command, controller.signal, consume)
        : await this.execUnpooled(target, command, controller.signal, consume);
    } finally {
      clearTimeout(timer);
      external?.removeEventListener('abort', forward);
      this.inFlight.delete(controller);
    }
  }

  private async execPooled<T extends ChannelOutcome>(target: SshTarget, command: string, abort: AbortSignal, consume: Consumer<T>): Promise<T> {
    const group = this.groups.for(target);
    const { output, hit } = await execOnGroup(group, {
      serverId: target.serverId,
      command,
      abort,
      consume,
      now: Date.now,
      onRefusal: () => this.counters.refusals++,
      onSpare: () => this.counters.spareHits++,
    });
    if (hit) {
      this.counters.hits++;
      this.logger.debug(`Reusing existing connection: ${group.key}`);
    } else {
      this.counters.misses++;
    }
    return output;
  }

  private async execUnpooled<T extends ChannelOutcome>(target: SshTarget, command: string, abort: AbortSignal, consume: Consumer<T>): Promise<T> {
    const key = this.groups.keyOf(target);
    this.backoff.admit(key, Date.now());
    this.counters.misses++;
    const ssh = await raceAbort(this.dialer.dial(target, key), abort, (late) => late.close());
    try {
      const channel = await raceAbort(ssh.exec(command), abort, killChannel).catch((error: unknown) => {
        throw execFailure(error, key.hostId);
      });
      return checkedOutcome(await consume(channel, abort), key.hostId);
    } finally {
      ssh.close();
    }
  }

  private onEvicted(connection: PooledConnection, reason: EvictionReason): void {
    this.counters.evictions[reason]++;
    this.logger.log(`Closed SSH connection #${connection.id}: ${connection.key} (${reason})`);
  }

  private assertAccepting(): void {
    if (this.shuttingDown) throw new SshPoolError(SshPoolErrorCode.SHUTTING_DOWN, 'the SSH pool is shutting down');
  }
}
