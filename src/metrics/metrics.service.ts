import { Injectable } from '@nestjs/common';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { COMMAND_BUCKETS, METRIC_PREFIX, registerPoolMetrics } from './pool-metrics.js';

export type StatusProbeOutcome = 'ok' | 'error';

/** Operations last from a second (stop) to hours (validate). */
const OPERATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200];

/**
 * Owns this application's Prometheus registry. Each app instance gets its own Registry (never the
 * prom-client global), so several apps in one process — e.g. e2e specs in one jest worker — never
 * clash over metric names.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly statusProbeDuration: Histogram<'outcome'>;
  private readonly operationDuration: Histogram<'action' | 'status'>;
  private readonly operationsRunning: Gauge;

  constructor(pool: SshPoolService) {
    // The Node client's standard names (process_*, nodejs_*), unprefixed so stock dashboards work.
    collectDefaultMetrics({ register: this.registry });
    pool.setObserver(registerPoolMetrics(this.registry, pool));
    this.httpDuration = new Histogram({
      name: `${METRIC_PREFIX}http_request_duration_seconds`,
      help: 'HTTP request duration by method, route template (never the raw path; "unmatched" when no route matched) and status code.',
      labelNames: ['method', 'route', 'status_code'] as const,
      buckets: COMMAND_BUCKETS,
      registers: [this.registry],
    });
    this.statusProbeDuration = new Histogram({
      name: `${METRIC_PREFIX}status_probe_duration_seconds`,
      help: 'Duration of one game-status probe of one host (one command for all its servers), by outcome.',
      labelNames: ['outcome'] as const,
      buckets: COMMAND_BUCKETS,
      registers: [this.registry],
    });
    this.operationDuration = new Histogram({
      name: `${METRIC_PREFIX}operation_duration_seconds`,
      help: 'Duration of server operations (start, stop, restart, update, validate) this replica ran, by action and final status.',
      labelNames: ['action', 'status'] as const,
      buckets: OPERATION_BUCKETS,
      registers: [this.registry],
    });
    this.operationsRunning = new Gauge({
      name: `${METRIC_PREFIX}operations_running`,
      help: 'Server operations running on this replica now.',
      registers: [this.registry],
    });
  }

  /** The exposition text for `GET /metrics`. */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  /** One HTTP request ended. `route` must be a template such as `/api/servers/:id/exec`, never a raw path. */
  observeHttpRequest(method: string, route: string, statusCode: number, seconds: number): void {
    this.httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds);
  }

  operationStarted(): void {
    this.operationsRunning.inc();
  }

  /** An operation this replica ran ended with `status`. */
  operationEnded(action: string, status: string, seconds: number): void {
    this.operationsRunning.dec();
    this.operationDuration.observe({ action, status }, seconds);
  }

  /**
   * One host's status probe ended (for StatusModule): `error` when the host could not be reached or
   * the probe command failed.
   */
  observeStatusProbe(seconds: number, outcome: StatusProbeOutcome = 'ok'): void {
    this.statusProbeDuration.observe({ outcome }, seconds);
  }
}
