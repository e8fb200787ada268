import { Controller } from '@nestjs/common';
import { MessagePattern } from '@nestjs/microservices';
import type { Observable } from 'rxjs';
import { type BatchStartedDto, type OperationDto, type OperationPageDto, type OperationStartedDto, toOperationDto, toOperationPage, toOperationStarted } from '../operations/operation.mapper.js';
import { BatchOperationsDto } from '../operations/operations.dto.js';
import { OperationsService } from '../operations/operations.service.js';
import { Idempotent } from '../idempotency/idempotent.decorator.js';
import { type OperationEventMessage, CallerConnection, type RpcConnection, toRpcEvents } from './operation-events.rpc.js';
import { RpcBody } from './rpc-payload.js';
import { RpcPattern } from './rpc-patterns.js';
import { OperationEventsPayload, OperationHistoryPayload, OperationIdPayload, StartOperationPayload } from './rpc.dto.js';

/** `operations.*` over the internal transport: the services and mappers behind /api/operations, the same replies. */
@Controller()
export class OperationsRpcController {
  constructor(private readonly operations: OperationsService) {}

  @MessagePattern(RpcPattern.OPERATIONS_START)
  @Idempotent()
  async start(@RpcBody() { id, action }: StartOperationPayload): Promise<OperationStartedDto> {
    return toOperationStarted(await this.operations.start(id, action));
  }

  @MessagePattern(RpcPattern.OPERATIONS_BATCH)
  @Idempotent()
  async batch(@RpcBody() { serverIds, action }: BatchOperationsDto): Promise<BatchStartedDto> {
    return { operations: (await this.operations.startMany(serverIds, action)).map(toOperationStarted) };
  }

  @MessagePattern(RpcPattern.OPERATIONS_GET)
  async get(@RpcBody() { id }: OperationIdPayload): Promise<OperationDto> {
    return toOperationDto(await this.operations.get(id));
  }

  /** The operation once it ended, or still `running` when stopping it takes longer than the wait (REST's 202). */
  @MessagePattern(RpcPattern.OPERATIONS_CANCEL)
  async cancel(@RpcBody() { id }: OperationIdPayload): Promise<OperationDto> {
    return toOperationDto(await this.operations.cancel(id));
  }

  @MessagePattern(RpcPattern.OPERATIONS_LIST)
  async list(@RpcBody() { id, limit, offset }: OperationHistoryPayload): Promise<OperationPageDto> {
    return toOperationPage(await this.operations.history(id, limit, offset));
  }

  /**
   * One message per event after `lastEventId`, then live ones; completes after `done`, or when the
   * caller disconnects. Reads wait while the connection has not drained what it was sent.
   */
  @MessagePattern(RpcPattern.OPERATIONS_EVENTS)
  async events(@RpcBody() { id, lastEventId = 0 }: OperationEventsPayload, @CallerConnection() caller: RpcConnection): Promise<Observable<OperationEventMessage>> {
    return toRpcEvents(await this.operations.events(id, lastEventId, caller.drained), caller);
  }
}
