import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import { type ExecResponseDto, type ServerResponseDto, toExecResponse } from '../servers/server.mapper.js';
import { ServerResponses } from '../servers/server-responses.js';
import { Idempotent } from '../idempotency/idempotent.decorator.js';
import { ServersService } from '../servers/servers.service.js';
import { RpcBody, RpcNoPayload } from './rpc-payload.js';
import { RpcPattern } from './rpc-patterns.js';
import { ExecPayload, ServerIdPayload } from './rpc.dto.js';

/** `servers.*` over the internal transport: the REST routes' services and mappers, the same replies. */
@Controller()
export class ServersRpcController {
  constructor(
    private readonly servers: ServersService,
    private readonly responses: ServerResponses,
  ) {}

  @MessagePattern(RpcPattern.SERVERS_LIST)
  async list(@RpcNoPayload() _payload: void): Promise<ServerResponseDto[]> {
    return this.responses.many(await this.servers.list());
  }

  @MessagePattern(RpcPattern.SERVERS_GET)
  async get(@RpcBody() { id }: ServerIdPayload): Promise<ServerResponseDto> {
    return this.responses.one(await this.servers.get(id));
  }

  /** A non-zero exit is still a reply, as REST's 200: the command ran. */
  @MessagePattern(RpcPattern.SERVERS_EXEC)
  @Idempotent()
  async exec(@RpcBody() { id, ...command }: ExecPayload): Promise<ExecResponseDto> {
    return toExecResponse(await this.servers.exec(id, command));
  }
}
