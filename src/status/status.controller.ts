import { Controller, Get } from '@nestjs/common';
import { UuidParam } from '../common/validation.js';
import type { PoolStats } from '../ssh-pool/ssh-pool.types.js';
import { PoolAdminService } from './pool-admin.service.js';
import type { ServerStatusDto } from './status.dto.js';
import { StatusService } from './status.service.js';

/** The seed's shape, kept for existing dashboards. */
export interface PoolStatsResponseDto {
  success: true;
  pool_stats: PoolStats;
}

@Controller('api/server-status')
export class StatusController {
  constructor(
    private readonly admin: PoolAdminService,
    private readonly status: StatusService,
  ) {}

  @Get('pool/stats')
  poolStats(): PoolStatsResponseDto {
    return this.admin.stats();
  }

  /** Every server; the servers of one host are answered by one probe on one channel. */
  @Get()
  all(): Promise<ServerStatusDto[]> {
    return this.status.getAll();
  }

  @Get(':serverId')
  one(@UuidParam('serverId') serverId: string): Promise<ServerStatusDto> {
    return this.status.getOne(serverId);
  }
}
