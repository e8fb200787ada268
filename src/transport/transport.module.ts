import { Module } from '@nestjs/common';
import { OperationsModule } from '../operations/operations.module.js';
import { ServersModule } from '../servers/servers.module.js';
import { StatusModule } from '../status/status.module.js';
import { OperationsRpcController } from './operations.rpc.controller.js';
import { ServersRpcController } from './servers.rpc.controller.js';
import { StatusRpcController } from './status.rpc.controller.js';

/**
 * The message handlers of the internal TCP transport. They are registered whether or not the
 * transport listens (INTERNAL_TCP_PORT=0); main.ts decides that. No HTTP route lives here.
 */
@Module({
  imports: [ServersModule, StatusModule, OperationsModule],
  controllers: [ServersRpcController, StatusRpcController, OperationsRpcController],
})
export class TransportModule {}
