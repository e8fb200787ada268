import { Module } from '@nestjs/common';
import { ServersModule } from '../servers/servers.module.js';
import { PoolAdminService } from './pool-admin.service.js';
import { PoolController } from './pool.controller.js';
import { StatusController } from './status.controller.js';
import { StatusService } from './status.service.js';

/** Server status and the pool's own endpoints; the pool comes from the global SshPoolModule. */
@Module({
  imports: [ServersModule],
  controllers: [StatusController, PoolController],
  providers: [StatusService, PoolAdminService],
  exports: [StatusService, PoolAdminService],
})
export class StatusModule {}
