import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/configuration.js';
import { PgNotifyListener } from '../database/pg-notify-listener.js';

/** The PostgreSQL channel replicas tell each other about operations on. */
export const OPERATION_SIGNALS_CHANNEL = 'cs2_ssh_pool_operations';

/** `events`: new events of `operationId` are stored. `cancel`: whoever runs it should stop it. */
type Signal = { kind: 'events' | 'cancel'; operationId: string; origin?: string };

function parseSignal(payload: string): Signal | null {
  try {
    const value = JSON.parse(payload) as Record<string, unknown>;
    const { kind, operationId } = value ?? {};
    const origin = typeof value.origin === 'string' ? value.origin : undefined;
    return (kind === 'events' || kind === 'cancel') && typeof operationId === 'string' ? { kind, operationId, origin } : null;
  } catch {
    return null;
  }
}

/**
 * "Something happened to operation X", within this process and, on PostgreSQL, between replicas
 * (LISTEN/NOTIFY; no new infrastructure). A signal carries no data: receivers read the database,
 * which holds the truth, so a lost or duplicated signal costs only latency. `resync` fires when
 * notifications may have been missed (the listener reconnected): every reader looks again.
 */
@Injectable()
export class OperationSignals implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(OperationSignals.name);
  private readonly local = new EventEmitter();
  /** Lets this replica skip its own notifications: it delivered them locally at once. */
  private readonly origin = randomUUID();
  private readonly listener: PgNotifyListener | null;

  constructor(@InjectDataSource() private readonly dataSource: DataSource, config: ConfigService<AppConfig, true>) {
    // One listener per SSE subscriber and one per running operation: no fixed bound.
    this.local.setMaxListeners(0);
    this.listener =
      dataSource.options.type === 'postgres'
        ? new PgNotifyListener({
            url: config.get('database', { infer: true }).url,
            channel: OPERATION_SIGNALS_CHANNEL,
            onNotification: (payload) => this.received(payload),
            onListening: () => this.local.emit('resync'),
          })
        : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }

  /** Call after the events were committed. Never throws: readers also look again on their own. */
  async eventsStored(operationId: string): Promise<void> {
    await this.send({ kind: 'events', operationId });
  }

  async cancelRequested(operationId: string): Promise<void> {
    await this.send({ kind: 'cancel', operationId });
  }

  /** Calls `listener` on `kind` signals for `operationId` and on every resync; returns the unsubscribe. */
  on(kind: Signal['kind'], operationId: string, listener: () => void): () => void {
    const name = `${kind}:${operationId}`;
    this.local.on(name, listener);
    this.local.on('resync', listener);
    return () => {
      this.local.off(name, listener);
      this.local.off('resync', listener);
    };
  }

  private async send(signal: Signal): Promise<void> {
    this.local.emit(`${signal.kind}:${signal.operationId}`);
    if (this.listener === null) return;
    try {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [OPERATION_SIGNALS_CHANNEL, JSON.stringify({ ...signal, origin: this.origin })]);
    } catch (error) {
      this.logger.warn(`Could not notify replicas about operation ${signal.operationId}: ${error instanceof Error ? error.message : error}`);
    }
  }

  private received(payload: string): void {
    const signal = parseSignal(payload);
    if (signal === null) {
      this.logger.warn('Unreadable operation signal; every reader looks again');
      this.local.emit('resync');
      return;
    }
    if (signal.origin !== this.origin) this.local.emit(`${signal.kind}:${signal.operationId}`);
  }
}
