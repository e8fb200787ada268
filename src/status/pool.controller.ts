import { Controller, Delete, Get, HttpCode, HttpStatus, Post } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { NoBody, UuidParam } from '../common/validation.js';
import { ApiErrors, ApiProtected, BODY_ERRORS, CONNECT_ERRORS, ID_ERRORS, TARGET_ERRORS } from '../openapi/api-errors.js';
import { PoolAdminService } from './pool-admin.service.js';
import {
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
@ApiTags('pool')
@ApiProtected()
@Controller('api/server-status')
export class PoolController {
  constructor(private readonly admin: PoolAdminService) {}

  @Get('pool/connections')
  @ApiOperation({ summary: 'Every pooled connection' })
  @ApiOkResponse({ type: ConnectionsResponseDto })
  @ApiErrors()
  connections(): ConnectionsResponseDto {
    return this.admin.connections();
  }

  @Post('pool/cleanup')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Run the idle/lifetime cleanup now', description: 'Takes no body (none, or `{}`).' })
  @ApiOkResponse({ type: CleanupResponseDto })
  @ApiErrors(...BODY_ERRORS)
  async cleanup(@NoBody() _body: void): Promise<CleanupResponseDto> {
    return this.admin.cleanup();
  }

  @Post('pool/close-all')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Close every pooled connection', description: 'Busy ones finish their commands first (`retiring`). Takes no body.' })
  @ApiOkResponse({ type: CloseAllResponseDto })
  @ApiErrors(...BODY_ERRORS)
  async closeAll(@NoBody() _body: void): Promise<CloseAllResponseDto> {
    return this.admin.closeAll();
  }

  /** The connections the server has used and those of its key, which it would use next. */
  @Delete('pool/connections/:serverId')
  @ApiParam({ name: 'serverId', format: 'uuid' })
  @ApiOperation({ summary: 'Close the connections of one server’s key', description: 'And any connection it used before. Takes no body.' })
  @ApiOkResponse({ type: RemoveResponseDto })
  @ApiErrors(...ID_ERRORS, ...BODY_ERRORS, ...TARGET_ERRORS)
  async remove(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<RemoveResponseDto> {
    return this.admin.remove(serverId);
  }

  @Get(':serverId/connection')
  @ApiParam({ name: 'serverId', format: 'uuid' })
  @ApiOperation({ summary: 'The seed’s connection info for one server' })
  @ApiOkResponse({ type: ServerConnectionResponseDto })
  @ApiErrors(...ID_ERRORS, ...TARGET_ERRORS)
  async connection(@UuidParam('serverId') serverId: string): Promise<ServerConnectionResponseDto> {
    return this.admin.connection(serverId);
  }

  /** A fresh connection, the host's backoff forgotten; a failed connect answers its own error code. */
  @Post(':serverId/reconnect')
  @HttpCode(HttpStatus.OK)
  @ApiParam({ name: 'serverId', format: 'uuid' })
  @ApiOperation({ summary: 'Force a fresh connection', description: 'Clears the host’s backoff; a failed connect answers its error and leaves the old connections in service. Takes no body.' })
  @ApiOkResponse({ type: ReconnectResponseDto })
  @ApiErrors(...ID_ERRORS, ...BODY_ERRORS, ...TARGET_ERRORS, ...CONNECT_ERRORS)
  async reconnect(@UuidParam('serverId') serverId: string, @NoBody() _body: void): Promise<ReconnectResponseDto> {
    return this.admin.reconnect(serverId);
  }
}
