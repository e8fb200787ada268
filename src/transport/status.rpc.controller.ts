import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { PoolAdminService } from '../status/pool-admin.service.js';
import type {
  CleanupResponseDto,
  CloseAllResponseDto,
  ConnectionsResponseDto,
  PoolStatsResponseDto,
  ReconnectResponseDto,
  RemoveResponseDto,
  ServerConnectionResponseDto,
} from '../status/pool.dto.js';
import type { ServerStatusDto } from '../status/status.dto.js';
import { StatusService } from '../status/status.service.js';
import { RpcBody, RpcNoPayload } from './rpc-payload.js';
import { RpcPattern } from './rpc-patterns.js';
import { ServerRefPayload } from './rpc.dto.js';

/** `status.*` and `pool.*` over the internal transport: the services behind /api/server-status, the same replies. */
@Controller()
export class StatusRpcController {
  constructor(
    private readonly status: StatusService,
    private readonly admin: PoolAdminService,
  ) {}

  @MessagePattern(RpcPattern.STATUS_ALL)
  all(@RpcNoPayload() _payload: void): Promise<ServerStatusDto[]> {
    return this.status.getAll();
  }

  @MessagePattern(RpcPattern.STATUS_GET)
  one(@RpcBody() { serverId }: ServerRefPayload): Promise<ServerStatusDto> {
    return this.status.getOne(serverId);
  }

  @MessagePattern(RpcPattern.STATUS_CONNECTION)
  connection(@RpcBody() { serverId }: ServerRefPayload): Promise<ServerConnectionResponseDto> {
    return this.admin.connection(serverId);
  }

  @MessagePattern(RpcPattern.STATUS_RECONNECT)
  reconnect(@RpcBody() { serverId }: ServerRefPayload): Promise<ReconnectResponseDto> {
    return this.admin.reconnect(serverId);
  }

  @MessagePattern(RpcPattern.POOL_STATS)
  poolStats(@RpcNoPayload() _payload: void): PoolStatsResponseDto {
    return this.admin.stats();
  }

  @MessagePattern(RpcPattern.POOL_CONNECTIONS)
  connections(@RpcNoPayload() _payload: void): ConnectionsResponseDto {
    return this.admin.connections();
  }

  @MessagePattern(RpcPattern.POOL_CLEANUP)
  cleanup(@RpcNoPayload() _payload: void): Promise<CleanupResponseDto> {
    return this.admin.cleanup();
  }

  @MessagePattern(RpcPattern.POOL_CLOSE_ALL)
  closeAll(@RpcNoPayload() _payload: void): Promise<CloseAllResponseDto> {
    return this.admin.closeAll();
  }

  @MessagePattern(RpcPattern.POOL_REMOVE)
  remove(@RpcBody() { serverId }: ServerRefPayload): Promise<RemoveResponseDto> {
    return this.admin.remove(serverId);
  }
}
