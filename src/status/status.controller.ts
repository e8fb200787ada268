import { Controller, Get } from '@nestjs/common';
import { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { PoolStats } from '../ssh-pool/ssh-pool.types.js';

/** The seed's shape, kept for existing dashboards. */
export interface PoolStatsResponseDto {
  success: true;
  pool_stats: PoolStats;
}

@Controller('api/server-status')
export class StatusController {
  constructor(private readonly pool: SshPoolService) {}

  @Get('pool/stats')
  poolStats(): PoolStatsResponseDto {
    return { success: true, pool_stats: this.pool.getStats() };
  }
}
