import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Patch, Post } from '@nestjs/common';
import { UuidParam } from '../common/validation.js';
import { type ExecResponseDto, type ServerResponseDto, toExecResponse, toServerResponse } from './server.mapper.js';
import { CreateServerDto, ExecCommandDto, UpdateServerDto } from './servers.dto.js';
import { ServersService } from './servers.service.js';

@Controller('api/servers')
export class ServersController {
  constructor(private readonly servers: ServersService) {}

  @Post()
  async create(@Body() dto: CreateServerDto): Promise<ServerResponseDto> {
    return toServerResponse(await this.servers.create(dto));
  }

  @Get()
  async list(): Promise<ServerResponseDto[]> {
    return (await this.servers.list()).map(toServerResponse);
  }

  @Get(':id')
  async get(@UuidParam('id') id: string): Promise<ServerResponseDto> {
    return toServerResponse(await this.servers.get(id));
  }

  @Patch(':id')
  async update(@UuidParam('id') id: string, @Body() dto: UpdateServerDto): Promise<ServerResponseDto> {
    return toServerResponse(await this.servers.update(id, dto));
  }

  @Delete(':id')
  @HttpCode(HttpStatus.NO_CONTENT)
  async remove(@UuidParam('id') id: string): Promise<void> {
    await this.servers.remove(id);
  }

  /** A non-zero exit is still a 200: the command ran. */
  @Post(':id/exec')
  @HttpCode(HttpStatus.OK)
  async exec(@UuidParam('id') id: string, @Body() dto: ExecCommandDto): Promise<ExecResponseDto> {
    return toExecResponse(await this.servers.exec(id, dto));
  }
}
