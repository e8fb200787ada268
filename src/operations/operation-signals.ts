import { Injectable, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { EventEmitter } from 'node:events';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/configuration.js';
import { ReplicaChannel } from '../database/replica-channel.js';

/** The PostgreSQL channel replicas tell each other about operations on. */
export const OPERATION_SIGNALS_CHANNEL = 'cs2_ssh_pool_operations';

/** `events`: new events of `operationId` are stored. `cancel`: whoever runs it should read its row (a cancel was recorded there). */
type Signal = { kind: 'events' | 'cancel'; operationId: string };

function parseSignal(value: Record<string, unknown>): Signal | null {
  const { kind, operationId } = value;
  return (kind === 'events' || kind === 'cancel') && typeof operationId === 'string' ? { kind, operationId } : null;
}

/**
 * "Something happened to operation X", within this process and, on PostgreSQL, between replicas
 * (LISTEN/NOTIFY; no new infrastructure). A signal carries no data: receivers read the database,
 * which holds the truth, so a lost or duplicated signal costs only latency. `resync` fires when
 * notifications may have been missed (the listener reconnected): every reader looks again.
 */
@Injectable()
export class OperationSignals implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly local = new EventEmitter();
  private readonly replicas: ReplicaChannel<Signal>;

  constructor(@InjectDataSource() dataSource: DataSource, config: ConfigService<AppConfig, true>) {
    // One listener per SSE subscriber and one per running operation: no fixed bound.
    this.local.setMaxListeners(0);
    this.replicas = new ReplicaChannel({
      dataSource,
      url: config.get('database', { infer: true }).url,
      channel: OPERATION_SIGNALS_CHANNEL,
      parse: parseSignal,
      onMessage: (signal) => this.local.emit(`${signal.kind}:${signal.operationId}`),
      onResync: () => this.local.emit('resync'),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replicas.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replicas.stop();
  }

  /** Call after the events were committed. Never throws: readers also look again on their own. */
  async eventsStored(operationId: string): Promise<void> {
    await this.send({ kind: 'events', operationId });
  }

  async cancelRequested(operationId: string): Promise<void> {
    await this.send({ kind: 'cancel', operationId });
  }

  /**
   * Calls `listener` on `kind` signals for `operationId`; returns the unsubscribe. An `events` listener
   * is also called on every resync (it reads the database again). A `cancel` listener never is: a
   * resync says only that notifications may have been lost, and a cancel is acted on only once the
   * operation's row says it was requested (anyone who can connect may NOTIFY).
   */
  on(kind: Signal['kind'], operationId: string, listener: () => void): () => void {
    const name = `${kind}:${operationId}`;
    const alsoOnResync = kind === 'events';
    this.local.on(name, listener);
    if (alsoOnResync) this.local.on('resync', listener);
    return () => {
      this.local.off(name, listener);
      if (alsoOnResync) this.local.off('resync', listener);
    };
  }

  private async send(signal: Signal): Promise<void> {
    this.local.emit(`${signal.kind}:${signal.operationId}`);
    await this.replicas.publish(signal, `operation ${signal.operationId}`);
  }
}
