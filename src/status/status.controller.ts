import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/validation.js';
import { ApiErrors, ApiProtected, ID_ERRORS } from '../openapi/api-errors.js';
import { PoolAdminService } from './pool-admin.service.js';
import { PoolStatsResponseDto } from './pool.dto.js';
import { ServerStatusDto } from './status.dto.js';
import { StatusService } from './status.service.js';

@ApiProtected()
@Controller('api/server-status')
export class StatusController {
  constructor(
    private readonly admin: PoolAdminService,
    private readonly status: StatusService,
  ) {}

  @Get('pool/stats')
  @ApiTags('pool')
  @ApiOperation({ summary: 'Pool statistics (the seed’s shape; extra keys inside pool_stats)' })
  @ApiOkResponse({ type: PoolStatsResponseDto })
  @ApiErrors()
  poolStats(): PoolStatsResponseDto {
    return this.admin.stats();
  }

  /** Every server; the servers of one host are answered by one probe on one channel. */
  @Get()
  @ApiTags('status')
  @ApiOperation({ summary: 'Game-server status of every server', description: 'One probe per host answers for all its servers; a host that fails sets `error`, the request still succeeds.' })
  @ApiOkResponse({ type: [ServerStatusDto] })
  @ApiErrors()
  all(): Promise<ServerStatusDto[]> {
    return this.status.getAll();
  }

  @Get(':serverId')
  @ApiTags('status')
  @ApiParam({ name: 'serverId', format: 'uuid' })
  @ApiOperation({ summary: 'Game-server status of one server' })
  @ApiOkResponse({ type: ServerStatusDto })
  @ApiErrors(...ID_ERRORS)
  one(@UuidParam('serverId') serverId: string): Promise<ServerStatusDto> {
    return this.status.getOne(serverId);
  }
}
