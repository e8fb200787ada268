import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { UuidParam } from '../common/validation.js';
import { Idempotent, REPLAYED_HEADER_DOC } from '../idempotency/idempotent.decorator.js';
import { ApiErrors, ApiProtected, BODY_ERRORS, EXEC_ERRORS, ID_ERRORS, IDEMPOTENCY_ERRORS, TARGET_ERRORS } from '../openapi/api-errors.js';
import { ExecResponseDto, ServerResponseDto, toExecResponse } from './server.mapper.js';
import { ServerResponses } from './server-responses.js';
import { CreateServerDto, ExecCommandDto, UpdateServerDto } from './servers.dto.js';
import { ServerErrorCode } from './servers.errors.js';
import { ServersService } from './servers.service.js';

@ApiTags('servers')
@ApiProtected()
@Controller('api/servers')
export class ServersController {
  constructor(
    private readonly servers: ServersService,
    private readonly responses: ServerResponses,
  ) {}

  @Post()
  @ApiOperation({ summary: 'Register a server', description: 'A key or host that fails its checks is a 400 naming the field.' })
  @ApiCreatedResponse({ type: ServerResponseDto })
  @ApiErrors(...BODY_ERRORS, ServerErrorCode.NAME_TAKEN)
  async create(@Body() dto: CreateServerDto): Promise<ServerResponseDto> {
    return this.responses.one(await this.servers.create(dto));
  }

  @Get()
  @ApiOperation({ summary: 'Every server, by name' })
  @ApiOkResponse({ type: [ServerResponseDto] })
  @ApiErrors()
  async list(): Promise<ServerResponseDto[]> {
    return this.responses.many(await this.servers.list());
  }

  @Get(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'One server' })
  @ApiOkResponse({ type: ServerResponseDto })
  @ApiErrors(...ID_ERRORS)
  async get(@UuidParam('id') id: string): Promise<ServerResponseDto> {
    return this.responses.one(await this.servers.get(id));
  }

  @Patch(':id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Change any subset of the fields', description: '`null` clears a nullable field (e.g. unpins `hostKeyFingerprint`).' })
  @ApiOkResponse({ type: ServerResponseDto })
  @ApiErrors(...ID_ERRORS, ...BODY_ERRORS, ServerErrorCode.NAME_TAKEN)
  async update(@UuidParam('id') id: string, @Body() dto: UpdateServerDto): Promise<ServerResponseDto> {
    return this.responses.one(await this.servers.update(id, dto));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Delete a server', description: 'Its pooled connection closes once no other server shares it.' })
  @ApiNoContentResponse()
  @ApiErrors(...ID_ERRORS, ServerErrorCode.OPERATION_IN_PROGRESS)
  async remove(@UuidParam('id') id: string): Promise<void> {
    await this.servers.remove(id);
  }

  /** A non-zero exit is still a 200: the command ran. */
  @Post(':id/exec')
  @HttpCode(HttpStatus.OK)
  @Idempotent()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Run a command on the server’s host', description: 'A non-zero exit is still a 200. On timeout the remote command is killed (504 EXEC_TIMEOUT).' })
  @ApiOkResponse({ type: ExecResponseDto, headers: REPLAYED_HEADER_DOC })
  @ApiErrors(...ID_ERRORS, ...BODY_ERRORS, ...TARGET_ERRORS, ...EXEC_ERRORS, ...IDEMPOTENCY_ERRORS)
  async exec(@UuidParam('id') id: string, @Body() dto: ExecCommandDto): Promise<ExecResponseDto> {
    return toExecResponse(await this.servers.exec(id, dto));
  }
}
