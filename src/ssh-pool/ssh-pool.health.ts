import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { SshPoolService } from './ssh-pool.service.js';

/** Terminus indicator: the pool is live unless it is shutting down; reports its connection counts. */
@Injectable()
export class SshPoolHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly pool: SshPoolService,
  ) {}

  isHealthy(key = 'ssh_pool') {
    const indicator = this.health.check(key);
    const stats = this.pool.getStats();
    const data = {
      enabled: stats.enabled,
      connections: stats.total_connections,
      inUse: stats.in_use_connections,
      channelsInUse: stats.channels_in_use,
      waiters: stats.waiters,
    };
    return this.pool.isShuttingDown() ? indicator.down({ ...data, message: 'shutting down' }) : indicator.up(data);
  }
}
