import { ApiProperty } from '@nestjs/swagger';
import type { OperationPage } from './operations.service.js';
import { ACTIONS, type Action, type OperationEntity, type OperationStatus, STATUSES } from './operation.entity.js';

export class OperationStartedDto {
  @ApiProperty({ format: 'uuid' }) operationId!: string;
  @ApiProperty({ format: 'uuid' }) serverId!: string;
  @ApiProperty({ enum: ACTIONS, enumName: 'Action' }) action!: Action;
  @ApiProperty({ enum: ['running'] }) status!: 'running';
}

export class BatchStartedDto {
  @ApiProperty({ type: [OperationStartedDto], description: 'One per server, in the order of `serverIds`' }) operations!: OperationStartedDto[];
}

export interface OperationErrorDto {
  code: string;
  message: string;
}

export class OperationDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) serverId!: string;
  @ApiProperty({ enum: ACTIONS, enumName: 'Action' }) action!: Action;
  @ApiProperty({ enum: STATUSES, enumName: 'OperationStatus' }) status!: OperationStatus;
  @ApiProperty({ type: 'integer', nullable: true, description: 'The control script’s exit code; null while running or when it did not exit' }) exitCode!: number | null;
  @ApiProperty({ format: 'date-time' }) startedAt!: string;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) finishedAt!: string | null;
  @ApiProperty({ type: Number, nullable: true, minimum: 0, maximum: 100, description: 'Last SteamCMD progress percentage seen' }) progress!: number | null;
  @ApiProperty({ description: 'The last output lines (stdout and stderr as they arrived)' }) outputTail!: string;
  // Inline, not a $ref: OpenAPI 3.0 cannot make a referenced schema nullable (`nullable` beside `allOf` still refuses null).
  @ApiProperty({
    type: 'object',
    nullable: true,
    properties: { code: { type: 'string', example: 'SSH_UNREACHABLE' }, message: { type: 'string' } },
    required: ['code', 'message'],
    description: 'Why it ended without an exit code (connection failed, timeout, interrupted…)',
  })
  error!: OperationErrorDto | null;
}

export class OperationPageDto {
  @ApiProperty({ type: [OperationDto], description: 'Newest first' }) items!: OperationDto[];
  @ApiProperty({ type: 'integer' }) total!: number;
  @ApiProperty({ type: 'integer' }) limit!: number;
  @ApiProperty({ type: 'integer' }) offset!: number;
}

export function toOperationStarted(operation: OperationEntity): OperationStartedDto {
  return { operationId: operation.id, serverId: operation.serverId, action: operation.action, status: 'running' };
}

export function toOperationDto(operation: OperationEntity): OperationDto {
  return {
    id: operation.id,
    serverId: operation.serverId,
    action: operation.action,
    status: operation.status,
    exitCode: operation.exitCode,
    startedAt: operation.startedAt.toISOString(),
    finishedAt: operation.finishedAt?.toISOString() ?? null,
    progress: operation.progress,
    outputTail: operation.outputTail,
    error: operation.errorCode ? { code: operation.errorCode, message: operation.errorMessage ?? '' } : null,
  };
}

export function toOperationPage(page: OperationPage): OperationPageDto {
  return { ...page, items: page.items.map(toOperationDto) };
}
