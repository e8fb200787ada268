import { Module } from '@nestjs/common';
import { ServersModule } from '../servers/servers.module.js';
import { StatusModule } from '../status/status.module.js';
import { OperationSignals } from './operation-signals.js';
import { OperationStore } from './operation-store.js';
import { OperationsController } from './operations.controller.js';
import { OperationsService } from './operations.service.js';

/** LinuxGSM actions on servers: run over the pool, streamed, one per server at a time (SshPoolModule is global). */
@Module({
  imports: [ServersModule, StatusModule],
  controllers: [OperationsController],
  providers: [OperationStore, OperationSignals, OperationsService],
  exports: [OperationsService],
})
export class OperationsModule {}
