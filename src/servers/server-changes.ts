import { Injectable, Logger, type OnApplicationBootstrap, type OnApplicationShutdown } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { AppConfig } from '../config/configuration.js';
import { ReplicaChannel } from '../database/replica-channel.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { ServerTargetCache } from './server-target-cache.js';

/** The PostgreSQL channel every replica listens on. */
export const SERVER_CHANGES_CHANNEL = 'cs2_ssh_pool_server_changes';

/** One change as it travels between replicas: no secrets, only which server and what to drop. */
interface ServerChange {
  serverId: string;
  /** Its connection settings changed or it is gone: take it off its pooled connection too. */
  detach: boolean;
}

function parseChange(value: Record<string, unknown>): ServerChange | null {
  const { serverId, detach } = value;
  return typeof serverId === 'string' && typeof detach === 'boolean' ? { serverId, detach } : null;
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
  private readonly replicas: ReplicaChannel<ServerChange>;

  constructor(
    @InjectDataSource() dataSource: DataSource,
    private readonly cache: ServerTargetCache,
    private readonly pool: SshPoolService,
    config: ConfigService<AppConfig, true>,
  ) {
    this.replicas = new ReplicaChannel({
      dataSource,
      url: config.get('database', { infer: true }).url,
      channel: SERVER_CHANGES_CHANNEL,
      parse: parseChange,
      onMessage: (change) => void this.apply(change.serverId, change.detach),
      onResync: () => this.cache.clear(),
    });
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.replicas.start();
  }

  async onApplicationShutdown(): Promise<void> {
    await this.replicas.stop();
  }

  /** Call after the change committed. Never throws: the change is made, and the TTL bounds a lost notice. */
  async publish(serverId: string, options: { detach: boolean }): Promise<void> {
    await this.apply(serverId, options.detach);
    await this.replicas.publish({ serverId, detach: options.detach }, `the change to server ${serverId}`);
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
