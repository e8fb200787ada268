import { Injectable, Logger, type MessageEvent, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { defer, finalize, type Observable, Subject, takeUntil } from 'rxjs';
import { LessThan } from 'typeorm';
import { RequestValidationError } from '../common/request-validation.error.js';
import type { AppConfig, OperationsConfig } from '../config/configuration.js';
import { controlScriptOf } from '../servers/server.entity.js';
import { MetricsService } from '../metrics/metrics.service.js';
import { ServerError, ServerErrorCode } from '../servers/servers.errors.js';
import { ServersService } from '../servers/servers.service.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { StatusService } from '../status/status.service.js';
import type { SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { operationCommand } from './operation-command.js';
import { operationEvents, type ReadyToRead } from './operation-events.stream.js';
import { CancelRequest, LeaseLost, runOperation } from './operation-runner.js';
import { OperationSignals } from './operation-signals.js';
import { OperationStore } from './operation-store.js';
import { type Action, type OperationEntity, runningOperation } from './operation.entity.js';
import { HISTORY_LIMIT } from './operations.dto.js';
import { OperationError, OperationErrorCode } from './operations.errors.js';

export interface OperationPage {
  items: OperationEntity[];
  total: number;
  limit: number;
  offset: number;
}

interface Planned {
  operation: OperationEntity;
  target: SshTarget;
  command: string;
}

const isNotFound = (result: PromiseSettledResult<unknown>) =>
  result.status === 'rejected' && result.reason instanceof ServerError && result.reason.code === ServerErrorCode.NOT_FOUND;

const LEASE_INTERVAL_NAME = 'operations-lease';
/** Events of operations that ended longer ago are deleted (the operation and its tail stay). */
const EVENT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** At shutdown, how long event streams get to deliver the `done` of what just ended before they are closed. */
const STREAM_DRAIN_MS = 1000;
/** How long a cancel waits for the operation to end before answering with it still running. */
const CANCEL_WAIT_MS = 10_000;
/** At shutdown, how long the ends of what just stopped may take to be stored (the database may be away); then their leases decide. */
const FINISH_DRAIN_MS = 10_000;

/**
 * Server operations: LinuxGSM actions run on the server's pooled connection, streamed to the
 * database as events, one running per server (the database enforces it across replicas). This
 * replica holds a lease on what it runs and renews it; any replica ends the operations of one
 * whose lease ran out as `interrupted`.
 */
@Injectable()
export class OperationsService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(OperationsService.name);
  /** This replica, as the owner of the operations it runs. */
  readonly ownerId = randomUUID();
  private readonly config: OperationsConfig;
  private readonly runs = new Set<Promise<void>>();
  /**
   * What this replica has in hand (running, or storing how it ended), each with the switch that stops
   * its command: a recorded cancel, or another replica having ended it.
   */
  private readonly owned = new Map<string, AbortController>();
  /** Aborted at shutdown once the runs had FINISH_DRAIN_MS to store their ends. */
  private readonly giveUp = new AbortController();
  private lastPrune = 0;
  private openStreams = 0;
  private readonly closing = new Subject<void>();
  private ticking = false;

  constructor(
    private readonly store: OperationStore,
    private readonly signals: OperationSignals,
    private readonly servers: ServersService,
    private readonly pool: SshPoolService,
    private readonly scheduler: SchedulerRegistry,
    private readonly status: StatusService,
    private readonly metrics: MetricsService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.config = config.get('operations', { infer: true });
  }

  async onApplicationBootstrap(): Promise<void> {
    // One replica on SQLite: whatever is still running was left by a process that is gone.
    await this.sweep(new Date(), this.store.isPostgres ? undefined : this.ownerId);
    this.scheduler.addInterval(LEASE_INTERVAL_NAME, setInterval(() => void this.tick(), Math.floor(this.config.leaseMs / 3)));
  }

  /**
   * The pool drains (running operations get its grace period, then stop as `interrupted`); their ends
   * are stored before the database closes. The leases are renewed until then: the drain may outlast
   * one, and another replica must not take the server meanwhile.
   */
  async beforeApplicationShutdown(): Promise<void> {
    await this.pool.shutdown();
    const runs = Promise.all(this.runs);
    await Promise.race([runs, new Promise((resolve) => setTimeout(resolve, FINISH_DRAIN_MS).unref())]);
    this.giveUp.abort();
    await runs;
    if (this.scheduler.doesExist('interval', LEASE_INTERVAL_NAME)) this.scheduler.deleteInterval(LEASE_INTERVAL_NAME);
    // Followers of what just ended get its `done`; the rest (operations of other replicas) end
    // here and resume elsewhere with Last-Event-ID. An open stream would hold the HTTP server open.
    const deadline = Date.now() + STREAM_DRAIN_MS;
    while (this.openStreams > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    this.closing.next();
  }

  /** @throws ServerError SERVER_NOT_FOUND (and as the server's target cannot be built), OperationError OPERATION_IN_PROGRESS, SshPoolError POOL_SHUTTING_DOWN */
  async start(serverId: string, action: Action): Promise<OperationEntity> {
    this.assertAccepting();
    const [operation] = await this.launchAll([await this.plan(serverId, action)]);
    return operation;
  }

  /** All or none; unknown servers are one SERVER_NOT_FOUND naming them all (`details.ids`). @throws as `start`, for any of the servers */
  async startMany(serverIds: string[], action: Action): Promise<OperationEntity[]> {
    this.assertAccepting();
    return this.launchAll(await this.planAll(serverIds, action));
  }

  /** @throws OperationError OPERATION_NOT_FOUND */
  async get(id: string): Promise<OperationEntity> {
    const operation = await this.store.get(id);
    if (!operation) throw OperationError.notFound(id);
    return operation;
  }

  /**
   * Its events after `afterSeq`, then live ones until `done`, each read once `ready` allows.
   * @throws OperationError OPERATION_NOT_FOUND; RequestValidationError naming `field` when `afterSeq` is past its last event
   */
  async events(id: string, afterSeq: number, ready?: ReadyToRead, field = 'lastEventId'): Promise<Observable<MessageEvent>> {
    const { lastSeq } = await this.get(id);
    if (afterSeq > lastSeq) throw RequestValidationError.field(field, `${field} must be an event id of this operation (at most ${lastSeq})`);
    const events = operationEvents(this.store, this.signals, id, afterSeq, { ready }).pipe(takeUntil(this.closing));
    // Counted while subscribed: a stream set up for a client that left before it began holds nothing.
    return defer(() => {
      this.openStreams++;
      return events.pipe(finalize(() => this.openStreams--));
    });
  }

  /** A page of the server's operations, newest first. @throws ServerError SERVER_NOT_FOUND */
  async history(serverId: string, limit = HISTORY_LIMIT, offset = 0): Promise<OperationPage> {
    await this.servers.get(serverId);
    const [items, total] = await this.store.history(serverId, limit, offset);
    return { items, total, limit, offset };
  }

  /**
   * Asks the replica running it to stop the remote process group, and waits (bounded) for it to end.
   * @returns the operation, `cancelled` unless it ended otherwise first or is still stopping
   * @throws OperationError OPERATION_NOT_FOUND, OPERATION_NOT_RUNNING
   */
  async cancel(id: string): Promise<OperationEntity> {
    if (!(await this.store.requestCancel(id, new Date()))) {
      const operation = await this.get(id);
      throw new OperationError(OperationErrorCode.NOT_RUNNING, `Operation ${id} has already ended (${operation.status})`, { id, status: operation.status });
    }
    return this.waitForEnd(id, () => void this.signals.cancelRequested(id));
  }

  /** Renews this replica's leases, ends those that ran out elsewhere, and now and then prunes old events. Never overlaps itself. */
  async tick(now = new Date()): Promise<void> {
    if (this.ticking) return;
    this.ticking = true;
    try {
      await this.store.renew(this.ownerId, [...this.owned.keys()], new Date(now.getTime() + this.config.leaseMs));
      await this.checkOwned();
      await this.sweep(now);
      if (now.getTime() - this.lastPrune > 3600_000) {
        this.lastPrune = now.getTime();
        await this.store.pruneEvents(new Date(now.getTime() - EVENT_RETENTION_MS));
      }
    } catch (error) {
      this.logger.warn(`Operation lease upkeep failed: ${error instanceof Error ? error.message : error}`);
    } finally {
      this.ticking = false;
    }
  }

  /** Every server is checked before anything starts: unknown ones are one 404 naming them all. */
  private async planAll(serverIds: string[], action: Action): Promise<Planned[]> {
    const settled = await Promise.allSettled(serverIds.map((id) => this.plan(id, action)));
    const missing = serverIds.filter((_, i) => isNotFound(settled[i]));
    if (missing.length > 0) throw new ServerError(ServerErrorCode.NOT_FOUND, `${missing.length} of the servers not found: ${missing.join(', ')}`, { ids: missing });
    return settled.map((result) => {
      if (result.status === 'rejected') throw result.reason;
      return result.value;
    });
  }

  private async launchAll(planned: Planned[]): Promise<OperationEntity[]> {
    const operations = planned.map(({ operation }) => operation);
    await this.store.createRunning(operations);
    for (const { operation, target, command } of planned) this.launch(operation, target, command);
    return operations;
  }

  private assertAccepting(): void {
    if (this.pool.isShuttingDown()) throw new SshPoolError(SshPoolErrorCode.SHUTTING_DOWN, 'the service is shutting down');
  }

  private async plan(serverId: string, action: Action): Promise<Planned> {
    const { server, target } = await this.servers.withTarget(serverId);
    const now = new Date();
    const operation = runningOperation({
      id: randomUUID(),
      serverId,
      action,
      ownerId: this.ownerId,
      leaseExpiresAt: new Date(now.getTime() + this.config.leaseMs),
      startedAt: now,
    });
    return { operation, target, command: operationCommand(serverId, operation.id, controlScriptOf(server), action, this.config.cancelGraceMs) };
  }

  private launch(operation: OperationEntity, target: SshTarget, command: string): void {
    this.logger.log(`Operation ${operation.id}: ${operation.action} on server ${operation.serverId}`);
    this.metrics.operationStarted();
    const stop = new AbortController();
    this.owned.set(operation.id, stop);
    const deps = { pool: this.pool, store: this.store, signals: this.signals, config: this.config, giveUp: this.giveUp.signal };
    const run = runOperation(deps, operation, target, command, stop.signal).then((status) => {
      this.runs.delete(run);
      this.owned.delete(operation.id);
      // The game server may have started or stopped: the next status read probes afresh.
      this.status.forgetCached();
      this.metrics.operationEnded(operation.action, status, (Date.now() - operation.startedAt.getTime()) / 1000);
    });
    this.runs.add(run);
  }

  /**
   * Stops the commands of operations this replica runs that another replica ended (this one could not
   * renew in time), so that no next operation of the server overlaps them (output would tell too, but
   * a quiet command writes none), and of those with a recorded cancel whose notification was lost.
   */
  private async checkOwned(): Promise<void> {
    if (this.owned.size === 0) return;
    for (const row of await this.store.byIds([...this.owned.keys()])) {
      const stop = this.owned.get(row.id);
      if (row.status !== 'running' || row.ownerId !== this.ownerId) stop?.abort(new LeaseLost());
      else if (row.cancelRequestedAt !== null) stop?.abort(new CancelRequest());
    }
  }

  /** Marks running operations whose owner is gone (lease ran out, or `ownerIsNot`) `interrupted`, each with its `done` event. */
  private async sweep(now: Date, ownerIsNot?: string): Promise<void> {
    for (const stale of await this.store.stale(now, ownerIsNot)) {
      const ended = await this.store.finish(
        stale.id,
        stale.lastSeq,
        [{ type: 'done', data: { status: 'interrupted', exitCode: null } }],
        {
          status: 'interrupted',
          exitCode: null,
          error: { code: 'OPERATION_INTERRUPTED', message: 'the replica running it stopped before it ended' },
          finishedAt: now,
          progress: stale.progress,
          outputTail: stale.outputTail,
        },
        // Not if its owner renewed the lease meanwhile (it is alive after all).
        ownerIsNot ? { ownerId: stale.ownerId } : { ownerId: stale.ownerId, leaseExpiresAt: LessThan(now) },
      );
      if (!ended) continue;
      this.logger.warn(`Operation ${stale.id} (${stale.action} on server ${stale.serverId}) interrupted: its replica stopped before it ended`);
      await this.signals.eventsStored(stale.id);
    }
  }

  private async waitForEnd(id: string, request: () => void): Promise<OperationEntity> {
    const deadline = Date.now() + CANCEL_WAIT_MS;
    let wake: () => void = () => undefined;
    const off = this.signals.on('events', id, () => wake());
    try {
      request();
      for (;;) {
        const operation = await this.get(id);
        if (operation.status !== 'running' || Date.now() >= deadline) return operation;
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(500, Math.max(0, deadline - Date.now())));
        });
      }
    } finally {
      off();
    }
  }
}
