import { Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { NoBody, UuidParam } from '../common/validation.js';
import { ServersService } from '../servers/servers.service.js';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import {
  type CleanupResponseDto,
  type CloseAllResponseDto,
  type ConnectionsResponseDto,
  type ReconnectResponseDto,
  type RemoveResponseDto,
  type ServerConnectionResponseDto,
  toConnectionResponse,
  toServerConnectionResponse,
} from './pool.dto.js';

/**
 * Operators' view and control of the pool. Closing never cuts a running command: a busy connection
 * takes no new command and closes when its last one ends. Routes without a body refuse one.
 */
@Controller('api/server-status')
export class PoolController {
  constructor(
    private readonly pool: SshPoolService,
    private readonly servers: ServersService,
  ) {}

  @Get('pool/connections')
  connections(): ConnectionsResponseDto {
    return { success: true, connections: this.pool.getConnections().map(toConnectionResponse) };
  }

  @Post('pool/cleanup')
  @HttpCode(HttpStatus.OK)
  async cleanup(@NoBody() _body: void): Promise<CleanupResponseDto> {
    return { success: true, removed: await this.pool.cleanup() };
  }

  @Post('pool/close-all')
  @HttpCode(HttpStatus.OK)
  async closeAll(@NoBody() _body: void): Promise<CloseAllResponseDto> {
    return { success: true, ...(await this.pool.closeAll()) };
  }

  /** The connections the server has used and those of its key, which it would use next. */
  @Delete('pool/connections/:serverId')
  async remove(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<RemoveResponseDto> {
    const target = await this.servers.targetFor(serverId);
    const { closed, retiring } = await this.pool.removeServerConnections(serverId, target);
    return { success: true, removed: closed, retiring };
  }

  @Get(':serverId/connection')
  async connection(@UuidParam('serverId') serverId: string): Promise<ServerConnectionResponseDto> {
    return toServerConnectionResponse(serverId, this.pool.getConnectionsFor(await this.servers.targetFor(serverId)));
  }

  /** A fresh connection, the host's backoff forgotten; a failed connect answers its own error code. */
  @Post(':serverId/reconnect')
  @HttpCode(HttpStatus.OK)
  async reconnect(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<ReconnectResponseDto> {
    const connection = await this.pool.reconnect(await this.servers.targetFor(serverId));
    return { success: true, serverId, connection: toConnectionResponse(connection) };
  }
}
