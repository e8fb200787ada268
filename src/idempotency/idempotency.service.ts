import { type BeforeApplicationShutdown, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { SchedulerRegistry } from '@nestjs/schedule';
import { randomUUID } from 'node:crypto';
import { errorBody } from '../common/error-response.js';
import type { AppConfig, IdempotencyConfig } from '../config/configuration.js';
import { IdempotencyKeyEntity } from './idempotency-key.entity.js';
import { IdempotencyError } from './idempotency.errors.js';
import { IdempotencyStore, type StoredAnswer } from './idempotency.store.js';
import type { IdempotentRequest } from './idempotent-request.js';

/** What a request answered: the status and the body a replay gives again. */
export interface Answer {
  status: number;
  body: unknown;
}

/** The time the service reads; tests replace `now` to let keys expire. */
@Injectable()
export class IdempotencyClock {
  now(): Date {
    return new Date();
  }
}

const LEASE_INTERVAL_NAME = 'idempotency-lease';
const CLEANUP_INTERVAL_NAME = 'idempotency-cleanup';
/** Pause between attempts to store an answer the database refused (an outage). */
const STORE_RETRY_MS = 1000;

const toAnswer = (row: StoredAnswer): Answer => ({ status: row.statusCode, body: row.response === null ? undefined : JSON.parse(row.response) });

/**
 * Idempotency keys: the first request with a key is recorded before it runs, and its answer once
 * it ended; a repeat gets that answer and runs nothing. This replica renews the lease of the
 * requests it runs, so that another can tell when it died mid-request: such a key then answers
 * SSH_OUTCOME_UNKNOWN for good (the command may have run; it never runs again).
 */
@Injectable()
export class IdempotencyService implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly logger = new Logger(IdempotencyService.name);
  /** This replica, as the owner of the requests it runs. */
  readonly ownerId = randomUUID();
  private readonly config: IdempotencyConfig;
  /** Requests claimed here whose answer is not stored yet. */
  private active = 0;
  private readonly retries = new Set<Promise<void>>();
  private stopping = false;
  private cleaning = false;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly clock: IdempotencyClock,
    private readonly scheduler: SchedulerRegistry,
    config: ConfigService<AppConfig, true>,
  ) {
    this.config = config.get('idempotency', { infer: true });
  }

  onModuleInit(): void {
    this.scheduler.addInterval(LEASE_INTERVAL_NAME, setInterval(() => void this.renew(), Math.floor(this.config.leaseMs / 3)));
    this.scheduler.addInterval(CLEANUP_INTERVAL_NAME, setInterval(() => void this.cleanup(), this.config.cleanupIntervalMs));
  }

  /** Answers still being stored get their attempt. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await Promise.all(this.retries);
  }

  /** Only now: requests still draining with the pool (SHUTDOWN_GRACE_MS) keep their leases until the server closed. */
  onApplicationShutdown(): void {
    for (const name of [LEASE_INTERVAL_NAME, CLEANUP_INTERVAL_NAME]) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
  }

  /**
   * Records the request before it runs. @returns null when it is the first (run it, then `complete`),
   * else the stored answer to give again. @throws IdempotencyError IDEMPOTENCY_KEY_REUSED (another
   * route or body), IDEMPOTENCY_KEY_IN_PROGRESS (the first has not answered yet)
   */
  async claim(request: IdempotentRequest): Promise<Answer | null> {
    const now = this.clock.now();
    // A second insert only after an expired key was freed (or vanished) in between.
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.store.insert(this.newRecord(request, now))) {
        this.active++;
        return null;
      }
      const found = await this.store.find(request.caller, request.key);
      if (found && (found.expiresAt > now || found.statusCode === null)) return this.answerOf(found, request, now);
      await this.store.removeExpired(request.caller, request.key, now);
    }
    throw IdempotencyError.inProgress();
  }

  /** Stores the answer of a request `claim` let run; a database outage is retried in the background. */
  async complete(request: IdempotentRequest, answer: Answer): Promise<void> {
    const stored = this.bounded(request, answer);
    try {
      await this.write(request, stored);
      this.active--;
    } catch (error) {
      this.logger.warn(`Could not store the answer of ${request.route} [${request.correlationId}]; retrying: ${String(error)}`);
      const retry = this.retryWrite(request, stored).finally(() => {
        this.active--;
        this.retries.delete(retry);
      });
      this.retries.add(retry);
    }
  }

  /** Extends the lease of the requests this replica runs (the scheduled tick). */
  async renew(): Promise<void> {
    if (this.active === 0) return;
    try {
      await this.store.renew(this.ownerId, new Date(this.clock.now().getTime() + this.config.leaseMs));
    } catch (error) {
      this.logger.warn(`Could not renew idempotency leases: ${String(error)}`);
    }
  }

  /** Deletes expired keys (the scheduled tick; callable from tests). @returns how many */
  async cleanup(now = this.clock.now()): Promise<number> {
    if (this.cleaning) return 0;
    this.cleaning = true;
    try {
      const removed = await this.store.prune(now);
      if (removed > 0) this.logger.debug(`Removed ${removed} expired idempotency key(s)`);
      return removed;
    } catch (error) {
      this.logger.warn(`Could not prune idempotency keys: ${String(error)}`);
      return 0;
    } finally {
      this.cleaning = false;
    }
  }

  private newRecord(request: IdempotentRequest, now: Date): IdempotencyKeyEntity {
    const { caller, key, route, requestHash } = request;
    const at = (ms: number) => new Date(now.getTime() + ms);
    return Object.assign(new IdempotencyKeyEntity(), {
      caller, key, route, requestHash, statusCode: null, response: null, ownerId: this.ownerId,
      leaseExpiresAt: at(this.config.leaseMs), createdAt: now, expiresAt: at(this.config.ttlMs),
    } satisfies IdempotencyKeyEntity);
  }

  private async answerOf(found: IdempotencyKeyEntity, request: IdempotentRequest, now: Date): Promise<Answer> {
    if (found.route !== request.route || found.requestHash !== request.requestHash) throw IdempotencyError.reused();
    if (found.statusCode !== null) return toAnswer({ statusCode: found.statusCode, response: found.response });
    if (!this.ownerGone(found, now)) throw IdempotencyError.inProgress();
    const unknown = this.bounded(request, { status: 502, body: errorBody(IdempotencyError.outcomeUnknown(), request.correlationId) });
    const staleBefore = this.store.isPostgres ? now : null;
    if (await this.store.abandon(found.caller, found.key, found.ownerId, staleBefore, unknown)) {
      this.logger.warn(`Idempotency key of ${found.route} was left in progress by a replica that is gone: it answers SSH_OUTCOME_UNKNOWN`);
    }
    const settled = await this.store.find(found.caller, found.key);
    if (settled?.statusCode == null) throw IdempotencyError.inProgress();
    return toAnswer({ statusCode: settled.statusCode, response: settled.response });
  }

  /**
   * Whether the replica running it is gone: on PostgreSQL it stopped renewing the lease; on SQLite
   * (one replica) any owner but this process is an earlier run of it.
   */
  private ownerGone(found: IdempotencyKeyEntity, now: Date): boolean {
    if (found.ownerId === this.ownerId) return false;
    return !this.store.isPostgres || found.leaseExpiresAt < now;
  }

  /** The answer as stored, within `maxAnswerBytes`; one over it (a bug: exec answers cannot be) is kept as a 500. */
  private bounded(request: IdempotentRequest, answer: Answer): StoredAnswer {
    const response = answer.body === undefined ? null : JSON.stringify(answer.body);
    const bytes = response === null ? 0 : Buffer.byteLength(response, 'utf8');
    if (bytes <= this.config.maxAnswerBytes) return { statusCode: answer.status, response };
    this.logger.error(`The answer of ${request.route} [${request.correlationId}] is ${bytes} bytes, over ${this.config.maxAnswerBytes}: kept as a 500`);
    return { statusCode: 500, response: JSON.stringify(errorBody(null, request.correlationId)) };
  }

  private async write(request: IdempotentRequest, stored: StoredAnswer): Promise<void> {
    if (!(await this.store.complete(request.caller, request.key, this.ownerId, stored))) {
      this.logger.warn(`The answer of ${request.route} [${request.correlationId}] came after another replica declared it lost (SSH_OUTCOME_UNKNOWN)`);
    }
  }

  private async retryWrite(request: IdempotentRequest, stored: StoredAnswer): Promise<void> {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, STORE_RETRY_MS));
      try {
        return await this.write(request, stored);
      } catch (error) {
        if (this.stopping) {
          this.logger.error(`Gave up storing the answer of ${request.route} [${request.correlationId}]: the key will answer SSH_OUTCOME_UNKNOWN`);
          return;
        }
      }
    }
  }
}
