import { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import { PgNotifyListener } from './pg-notify-listener.js';

export interface ReplicaChannelOptions<T extends object> {
  dataSource: DataSource;
  /** The PostgreSQL URL the dedicated listening session connects to. */
  url: string;
  /** A plain identifier. */
  channel: string;
  /** The message in a notification's JSON object, or null when it does not hold one. */
  parse(value: Record<string, unknown>): T | null;
  /** A message another replica published (this replica's own were handled before publishing). */
  onMessage(message: T): void;
  /** Messages may have been missed: the listener (re)connected, or one was unreadable. */
  onResync(): void;
}

/**
 * Messages between the replicas that share one PostgreSQL database, over LISTEN/NOTIFY: no new
 * infrastructure. On any other database there is one replica, and publishing does nothing. A
 * message travels as a JSON object tagged with its sender, so that each replica skips its own.
 */
export class ReplicaChannel<T extends object> {
  private readonly logger = new Logger(ReplicaChannel.name);
  private readonly origin = randomUUID();
  private readonly listener: PgNotifyListener | null;

  constructor(private readonly options: ReplicaChannelOptions<T>) {
    this.listener =
      options.dataSource.options.type === 'postgres'
        ? new PgNotifyListener({
            url: options.url,
            channel: options.channel,
            onNotification: (payload) => this.received(payload),
            onListening: () => options.onResync(),
          })
        : null;
  }

  async start(): Promise<void> {
    await this.listener?.start();
  }

  async stop(): Promise<void> {
    await this.listener?.stop();
  }

  /** Call after the change committed. Never throws: a lost message is each receiver's to bound. `about` names it in the log. */
  async publish(message: T, about: string): Promise<void> {
    if (this.listener === null) return;
    try {
      await this.options.dataSource.query('SELECT pg_notify($1, $2)', [this.options.channel, JSON.stringify({ ...message, origin: this.origin })]);
    } catch (error) {
      this.logger.warn(`Could not notify other replicas of ${about}: ${error instanceof Error ? error.message : error}`);
    }
  }

  private received(payload: string): void {
    let value: unknown;
    try {
      value = JSON.parse(payload);
    } catch {
      value = null;
    }
    const record = typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
    const message = record && typeof record.origin === 'string' ? this.options.parse(record) : null;
    if (message === null) {
      this.logger.warn(`Unreadable notification on ${this.options.channel}; looking again from scratch`);
      this.options.onResync();
      return;
    }
    if (record!.origin !== this.origin) this.options.onMessage(message);
  }
}
