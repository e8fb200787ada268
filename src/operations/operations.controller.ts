import { Body, Controller, Delete, Get, Headers, HttpCode, HttpStatus, Logger, type MessageEvent, Param, Post, Query, Req, Res, Sse } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ApiAcceptedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiParam, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { Observable } from 'rxjs';
import { RequestValidationError } from '../common/request-validation.error.js';
import { NoBody, UuidParam } from '../common/validation.js';
import { Idempotent, REPLAYED_HEADER_DOC } from '../idempotency/idempotent.decorator.js';
import { ApiErrors, ApiProtected, BODY_ERRORS, ID_ERRORS, IDEMPOTENCY_ERRORS, TARGET_ERRORS } from '../openapi/api-errors.js';
import { ServerErrorCode } from '../servers/servers.errors.js';
import { SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import { endWithErrorEvent, SSE_MAX_QUEUED_CHARS, sseReady } from './operation-events.stream.js';
import { ACTIONS, type Action } from './operation.entity.js';
import { BatchStartedDto, OperationDto, OperationPageDto, OperationStartedDto, toOperationDto, toOperationPage, toOperationStarted } from './operation.mapper.js';
import { BatchOperationsDto, HistoryQueryDto } from './operations.dto.js';
import { OperationErrorCode } from './operations.errors.js';
import { OperationsService } from './operations.service.js';

/** The action in the path: one of ACTIONS, else a 400 naming it. */
const ActionParam = (): ParameterDecorator =>
  Param('action', {
    transform: (value: string): Action => {
      if (!(ACTIONS as readonly string[]).includes(value)) throw RequestValidationError.field('action', `action must be one of: ${ACTIONS.join(', ')}`);
      return value as Action;
    },
  });

/** SSE's resume point: the id of the last event the client has (a non-negative integer). */
function afterSeqOf(lastEventId: string | undefined): number {
  if (lastEventId === undefined || lastEventId === '') return 0;
  if (!/^\d{1,9}$/.test(lastEventId.trim())) throw RequestValidationError.field('Last-Event-ID', 'Last-Event-ID must be an event id of this stream');
  return Number(lastEventId.trim());
}

const OPERATION_ID_ERRORS = ['VALIDATION_FAILED', 'MALFORMED_URL', OperationErrorCode.NOT_FOUND] as const;
const START_ERRORS = [...ID_ERRORS, ...BODY_ERRORS, ...TARGET_ERRORS, ...IDEMPOTENCY_ERRORS, OperationErrorCode.IN_PROGRESS, SshPoolErrorCode.SHUTTING_DOWN];

@ApiTags('operations')
@ApiProtected()
@Controller('api')
export class OperationsController {
  private readonly logger = new Logger(OperationsController.name);

  constructor(private readonly operations: OperationsService) {}

  @Post('servers/:id/actions/:action')
  @HttpCode(HttpStatus.ACCEPTED)
  @Idempotent()
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiParam({ name: 'action', enum: ACTIONS, enumName: 'Action' })
  @ApiOperation({ summary: 'Run a LinuxGSM action', description: 'Runs `<controlScript> <action>` on the server’s pooled connection and answers at once; follow it at /api/operations/{id}/events.' })
  @ApiAcceptedResponse({ type: OperationStartedDto, headers: REPLAYED_HEADER_DOC })
  @ApiErrors(...START_ERRORS)
  async start(@UuidParam('id') id: string, @ActionParam() action: Action, @NoBody() _body: void): Promise<OperationStartedDto> {
    return toOperationStarted(await this.operations.start(id, action));
  }

  @Post('operations/batch')
  @HttpCode(HttpStatus.ACCEPTED)
  @Idempotent()
  @ApiOperation({ summary: 'Run one action on many servers', description: 'All or none: an unknown or busy server starts nothing. They run concurrently within each host’s channel limits and queue beyond them.' })
  @ApiAcceptedResponse({ type: BatchStartedDto, headers: REPLAYED_HEADER_DOC })
  @ApiErrors(...BODY_ERRORS, ...TARGET_ERRORS, ...IDEMPOTENCY_ERRORS, ServerErrorCode.NOT_FOUND, OperationErrorCode.IN_PROGRESS, SshPoolErrorCode.SHUTTING_DOWN)
  async batch(@Body() dto: BatchOperationsDto): Promise<BatchStartedDto> {
    return { operations: (await this.operations.startMany(dto.serverIds, dto.action)).map(toOperationStarted) };
  }

  @Get('operations/:id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'One operation' })
  @ApiOkResponse({ type: OperationDto })
  @ApiErrors(...OPERATION_ID_ERRORS)
  async get(@UuidParam('id') id: string): Promise<OperationDto> {
    return toOperationDto(await this.operations.get(id));
  }

  // A client that lets more than the bound wait is dropped; paced reads keep one that reads under it.
  @Sse('operations/:id/events', { maxPendingDataLength: SSE_MAX_QUEUED_CHARS })
  @ApiParam({ name: 'id', format: 'uuid' })
  // Lower case, as @Headers() names it: one optional parameter instead of a required one plus a duplicate.
  @ApiHeader({ name: 'last-event-id', required: false, description: 'Last-Event-ID: resume after this event id' })
  @ApiProduces('text/event-stream')
  @ApiOperation({
    summary: 'Follow an operation (Server-Sent Events)',
    description: 'Events `output` {stream, line}, `progress` {percent} and a final `done` {status, exitCode}, numbered by `id`. First what was missed (after `Last-Event-ID`, which may not be past the last event), then live; the stream ends after `done`, or after an `error` {code, message} carrying the last delivered id. Leaving never stops the operation.',
  })
  @ApiOkResponse({ description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } })
  @ApiErrors(...OPERATION_ID_ERRORS)
  async events(@UuidParam('id') id: string, @Req() request: Request, @Headers('last-event-id') lastEventId?: string): Promise<Observable<MessageEvent>> {
    const afterSeq = afterSeqOf(lastEventId);
    const events = await this.operations.events(id, afterSeq, sseReady(request.socket), 'Last-Event-ID');
    return events.pipe(endWithErrorEvent(afterSeq, (error) => this.logger.error(`The event stream of operation ${id} failed`, error instanceof Error ? error.stack : String(error))));
  }

  @Delete('operations/:id')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'Cancel a running operation', description: 'Stops the remote process group (SIGTERM, then SIGKILL after OPERATION_CANCEL_GRACE_MS) and answers with the operation once it ended (`cancelled`).' })
  @ApiOkResponse({ type: OperationDto, description: 'It ended (normally `cancelled`)' })
  @ApiAcceptedResponse({ type: OperationDto, description: 'Still stopping after about 10 s (`running`); follow its events' })
  @ApiErrors(...OPERATION_ID_ERRORS, ...BODY_ERRORS, OperationErrorCode.NOT_RUNNING)
  async cancel(@UuidParam('id') id: string, @NoBody() _body: void, @Res({ passthrough: true }) response: Response): Promise<OperationDto> {
    const operation = await this.operations.cancel(id);
    // Still stopping after the wait: accepted, not done.
    if (operation.status === 'running') response.status(HttpStatus.ACCEPTED);
    return toOperationDto(operation);
  }

  @Get('servers/:id/operations')
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOperation({ summary: 'A server’s operations, newest first' })
  @ApiOkResponse({ type: OperationPageDto })
  @ApiErrors(...ID_ERRORS)
  async history(@UuidParam('id') id: string, @Query() query: HistoryQueryDto): Promise<OperationPageDto> {
    return toOperationPage(await this.operations.history(id, query.limit, query.offset));
  }
}
