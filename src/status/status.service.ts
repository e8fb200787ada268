import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { AppConfig, StatusConfig } from '../config/configuration.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ServerError } from '../servers/servers.errors.js';
import { ServersService, type ServerWithTarget } from '../servers/servers.service.js';
import { SecretHasher } from '../ssh-pool/connection-key.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { groupByConnection, type HostGroup } from './host-groups.js';
import { ConcurrencyLimiter, DeadlinePassedError, ProbeFlights } from './probe-flights.js';
import { mergeSnapshots, parseProbeOutput, ProbeOutputError, probeCommands, type ProbeSnapshot } from './status-probe.js';
import { ProbeFailureCode, toServerStatus, type ProbeOutcome, type ServerStatusDto } from './status.dto.js';

/**
 * Game-server status. Every host (connection key) is probed with one fixed script on one channel
 * that answers for all of its servers; probes run concurrently up to a bound, are shared by
 * concurrent requests, and may be served again for STATUS_CACHE_MS.
 */
@Injectable()
export class StatusService {
  private readonly logger = new Logger(StatusService.name);
  private readonly config: StatusConfig;
  private readonly hasher = new SecretHasher();
  private readonly flights: ProbeFlights<ProbeOutcome>;
  private readonly limiter: ConcurrencyLimiter;

  constructor(
    config: ConfigService<AppConfig, true>,
    private readonly servers: ServersService,
    private readonly pool: SshPoolService,
    private readonly metrics: MetricsService,
  ) {
    this.config = config.get('status', { infer: true });
    this.flights = new ProbeFlights(this.config.cacheMs);
    this.limiter = new ConcurrencyLimiter(this.config.probeConcurrency);
  }

  /** Every server, in the registry's order; a host that fails answers for its own servers only. */
  async getAll(): Promise<ServerStatusDto[]> {
    const entries = await this.servers.listWithTargets();
    const groups = groupByConnection(entries, this.hasher);
    const outcomes = new Map<string, ProbeOutcome>();
    await Promise.all(
      groups.map(async (group) => {
        const outcome = await this.probe(group);
        for (const server of group.servers) outcomes.set(server.id, outcome);
      }),
    );
    return entries.map((entry) => toServerStatus(entry.server, outcomes.get(entry.server.id) ?? targetFailure(entry)));
  }

  /** Drops cached probe results: a server was just started or stopped, the next read must see it. */
  forgetCached(): void {
    this.flights.clear();
  }

  /** One server; its host's probe still answers (and is cached) for the host's other servers. @throws ServerError SERVER_NOT_FOUND */
  async getOne(serverId: string): Promise<ServerStatusDto> {
    await this.servers.get(serverId);
    const entries = await this.servers.listWithTargets();
    const entry = entries.find((e) => e.server.id === serverId);
    if (!entry) throw ServerError.notFound(serverId); // deleted in between
    const group = groupByConnection(entries, this.hasher).find((g) => g.servers.some((s) => s.id === serverId));
    return toServerStatus(entry.server, group ? await this.probe(group) : targetFailure(entry));
  }

  private probe(group: HostGroup): Promise<ProbeOutcome> {
    const directories = group.servers.map((s) => s.gameDirectory);
    return this.flights.run(group.key, directories, () => this.timedProbe(group, directories));
  }

  /** The whole probe within STATUS_PROBE_TIMEOUT_MS: its wait for a slot, connecting, and every part. */
  private async timedProbe(group: HostGroup, directories: string[]): Promise<ProbeOutcome> {
    const started = performance.now();
    const finish = (outcome: 'ok' | 'error') => {
      const seconds = (performance.now() - started) / 1000;
      this.metrics.observeStatusProbe(seconds, outcome);
      return { checkedAt: new Date(), latencyMs: Math.round(seconds * 1000) };
    };
    const deadline = started + this.config.probeTimeoutMs;
    try {
      const snapshot = await this.limiter.run(() => this.runProbe(group, directories, deadline), this.config.probeTimeoutMs);
      return { kind: 'snapshot', snapshot, ...finish('ok') };
    } catch (error) {
      return { kind: 'failed', ...this.classify(group, error), ...finish('error') };
    }
  }

  /** One command per part of the directories (usually one), each given what is left of the bound. */
  private async runProbe(group: HostGroup, directories: string[], deadline: number): Promise<ProbeSnapshot> {
    const snapshots: ProbeSnapshot[] = [];
    for (const command of probeCommands(directories)) {
      const timeoutMs = Math.ceil(deadline - performance.now());
      if (timeoutMs <= 0) throw new DeadlinePassedError('the probe bound ran out');
      const result = await this.pool.exec(group.target, command, { timeoutMs });
      if (result.exitCode !== 0) throw new ProbeOutputError(`probe exited with ${result.exitCode ?? result.signal}`);
      snapshots.push(parseProbeOutput(result.stdout));
    }
    return mergeSnapshots(snapshots);
  }

  private classify(group: HostGroup, error: unknown): { reachable: boolean; error: string } {
    const host = `${group.target.username}@${group.target.host}:${group.target.port}`;
    if (error instanceof DeadlinePassedError) {
      this.logger.debug(`Status probe of ${host} ran out of time before it could run`);
      return { reachable: false, error: SshPoolErrorCode.EXEC_TIMEOUT };
    }
    if (error instanceof SshPoolError) {
      this.logger.debug(`Status probe of ${host} failed: ${error.code}`);
      return { reachable: false, error: error.code };
    }
    if (error instanceof ProbeOutputError) {
      this.logger.warn(`Status probe of ${host} gave no usable answer: ${error.message}`);
      return { reachable: true, error: ProbeFailureCode.FAILED };
    }
    this.logger.error(`Status probe of ${host} failed unexpectedly`, error instanceof Error ? error.stack : String(error));
    return { reachable: false, error: ProbeFailureCode.FAILED };
  }
}

/** A server whose target could not be built (unreadable key file or secret) was never probed. */
function targetFailure(entry: ServerWithTarget): ProbeOutcome {
  const error = 'error' in entry ? entry.error.code : ProbeFailureCode.FAILED;
  return { kind: 'failed', reachable: false, error, checkedAt: new Date(), latencyMs: 0 };
}
