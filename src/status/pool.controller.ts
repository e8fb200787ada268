import { Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { NoBody, UuidParam } from '../common/validation.js';
import { PoolAdminService } from './pool-admin.service.js';
import type {
  CleanupResponseDto,
  CloseAllResponseDto,
  ConnectionsResponseDto,
  ReconnectResponseDto,
  RemoveResponseDto,
  ServerConnectionResponseDto,
} from './pool.dto.js';

/**
 * Operators' view and control of the pool. Closing never cuts a running command: a busy connection
 * takes no new command and closes when its last one ends. Routes without a body refuse one.
 */
@Controller('api/server-status')
export class PoolController {
  constructor(private readonly admin: PoolAdminService) {}

  @Get('pool/connections')
  connections(): ConnectionsResponseDto {
    return this.admin.connections();
  }

  @Post('pool/cleanup')
  @HttpCode(HttpStatus.OK)
  async cleanup(@NoBody() _body: void): Promise<CleanupResponseDto> {
    return this.admin.cleanup();
  }

  @Post('pool/close-all')
  @HttpCode(HttpStatus.OK)
  async closeAll(@NoBody() _body: void): Promise<CloseAllResponseDto> {
    return this.admin.closeAll();
  }

  /** The connections the server has used and those of its key, which it would use next. */
  @Delete('pool/connections/:serverId')
  async remove(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<RemoveResponseDto> {
    return this.admin.remove(serverId);
  }

  @Get(':serverId/connection')
  async connection(@UuidParam('serverId') serverId: string): Promise<ServerConnectionResponseDto> {
    return this.admin.connection(serverId);
  }

  /** A fresh connection, the host's backoff forgotten; a failed connect answers its own error code. */
  @Post(':serverId/reconnect')
  @HttpCode(HttpStatus.OK)
  async reconnect(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<ReconnectResponseDto> {
    return this.admin.reconnect(serverId);
  }
}
