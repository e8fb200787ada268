import { Module } from '@nestjs/common';
import { ServersModule } from '../servers/servers.module.js';
import { StatusModule } from '../status/status.module.js';
import { ServersRpcController } from './servers.rpc.controller.js';
import { StatusRpcController } from './status.rpc.controller.js';

/**
 * The message handlers of the internal TCP transport. They are registered whether or not the
 * transport listens (INTERNAL_TCP_PORT=0); main.ts decides that. No HTTP route lives here.
 */
@Module({ imports: [ServersModule, StatusModule], controllers: [ServersRpcController, StatusRpcController] })
export class TransportModule {}
