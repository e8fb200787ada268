import { Injectable } from '@nestjs/common';
import { ServersService } from '../servers/servers.service.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import {
  type CleanupResponseDto,
  type CloseAllResponseDto,
  type ConnectionsResponseDto,
  type PoolStatsResponseDto,
  type ReconnectResponseDto,
  type RemoveResponseDto,
  type ServerConnectionResponseDto,
  toConnectionResponse,
  toServerConnectionResponse,
} from './pool.dto.js';

/**
 * The pool's operator actions as the API answers them, shared by the REST controllers and the
 * internal TCP transport so that both reply the same bodies from the same code.
 */
@Injectable()
export class PoolAdminService {
  constructor(
    private readonly pool: SshPoolService,
    private readonly servers: ServersService,
  ) {}

  stats(): PoolStatsResponseDto {
    return { success: true, pool_stats: this.pool.getStats() };
  }

  connections(): ConnectionsResponseDto {
    return { success: true, connections: this.pool.getConnections().map(toConnectionResponse) };
  }

  async cleanup(): Promise<CleanupResponseDto> {
    return { success: true, removed: await this.pool.cleanup() };
  }

  async closeAll(): Promise<CloseAllResponseDto> {
    return { success: true, ...(await this.pool.closeAll()) };
  }

  /**
   * The connections the server has used and those of its key, which it would use next.
   * @throws ServerError SERVER_NOT_FOUND
   */
  async remove(serverId: string): Promise<RemoveResponseDto> {
    const target = await this.servers.targetFor(serverId);
    const { closed, retiring } = await this.pool.removeServerConnections(serverId, target);
    return { success: true, removed: closed, retiring };
  }

  /** @throws ServerError SERVER_NOT_FOUND */
  async connection(serverId: string): Promise<ServerConnectionResponseDto> {
    return toServerConnectionResponse(serverId, this.pool.getConnectionsFor(await this.servers.targetFor(serverId)));
  }

  /**
   * A fresh connection, the host's backoff forgotten.
   * @throws ServerError SERVER_NOT_FOUND; SshPoolError with the failed connect's own code
   */
  async reconnect(serverId: string): Promise<ReconnectResponseDto> {
    const connection = await this.pool.reconnect(await this.servers.targetFor(serverId));
    return { success: true, serverId, connection: toConnectionResponse(connection) };
  }
}
