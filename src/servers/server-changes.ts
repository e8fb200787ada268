import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import { randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/configuration.js';
import { PgNotifyListener } from '../database/pg-notify-listener.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { ServerTargetCache } from './server-target-cache.js';

/** The PostgreSQL channel every replica listens on. */
export const SERVER_CHANGES_CHANNEL = 'cs2_ssh_pool_server_changes';

/** One change as it travels between replicas: no secrets, only which server and what to drop. */
interface ServerChange {
  origin: string;
  serverId: string;
  /** Its connection settings changed or it is gone: take it off its pooled connection too. */
  detach: boolean;
}

function parseChange(payload: string): ServerChange | null {
  try {
    const value: unknown = JSON.parse(payload);
    if (typeof value !== 'object' || value === null) return null;
    const { origin, serverId, detach } = value as Record<string, unknown>;
    return typeof origin === 'string' && typeof serverId === 'string' && typeof detach === 'boolean' ? { origin, serverId, detach } : null;
  } catch {
    return null;
  }
}

/**
 * Carries "server X changed" to this replica's target cache and pool at once and, on PostgreSQL, to
 * every other replica through LISTEN/NOTIFY. The notification is sent after the change committed;
 * one lost on the way (listener down, replica crashed in between) is bounded by the cache's TTL,
 * and a listener that reconnects clears the whole cache since it may have missed some.
 */
@Injectable()
export class ServerChanges implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(ServerChanges.name);
  /** Lets a replica skip its own notifications: it applied them before sending. */
  private readonly origin = randomUUID();
  private readonly listener: PgNotifyListener | null;

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly cache: ServerTargetCache,
    private readonly pool: SshPoolService,
    config: ConfigService<AppConfig, true>,
  ) {
    const { url } = config.get('database', { infer: true });
    this.listener =
      dataSource.options.type === 'postgres'
        ? new PgNotifyListener({
            url,
            channel: SERVER_CHANGES_CHANNEL,
            onNotification: (payload) => this.received(payload),
            onListening: () => this.cache.clear(),
          })
        : null;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.listener?.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.listener?.stop();
  }

  /** Call after the change committed. Never throws: the change is made, and the TTL bounds a lost notice. */
  async publish(serverId: string, options: { detach: boolean }): Promise<void> {
    await this.apply(serverId, options.detach);
    if (this.listener === null) return;
    const change: ServerChange = { origin: this.origin, serverId, detach: options.detach };
    try {
      await this.dataSource.query('SELECT pg_notify($1, $2)', [SERVER_CHANGES_CHANNEL, JSON.stringify(change)]);
    } catch (error) {
      this.logger.warn(`Could not notify other replicas of the change to server ${serverId}: ${error instanceof Error ? error.message : error}`);
    }
  }

  private received(payload: string): void {
    const change = parseChange(payload);
    if (change === null) {
      this.logger.warn('Unreadable server change notification; dropping every cached target');
      this.cache.clear();
      return;
    }
    if (change.origin !== this.origin) void this.apply(change.serverId, change.detach);
  }

  private async apply(serverId: string, detach: boolean): Promise<void> {
    this.cache.invalidate(serverId);
    if (!detach) return;
    try {
      await this.pool.detachServer(serverId);
    } catch (error) {
      // The record is already changed; a pool failure here must not turn the request into an error.
      this.logger.error(`Could not detach server ${serverId} from its pooled connection`, error instanceof Error ? error.stack : String(error));
    }
  }
}
