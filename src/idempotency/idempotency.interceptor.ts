import { type CallHandler, type ExecutionContext, Injectable, type NestInterceptor } from '@nestjs/common';
import type { Response } from 'express';
import { from, lastValueFrom, type Observable } from 'rxjs';
import { type ErrorBody, errorBody, ReplayedErrorAnswer } from '../common/error-response.js';
import { REPLAYED_HEADER } from './idempotency-key.js';
import { type Answer, IdempotencyService } from './idempotency.service.js';
import { type IdempotentRequest, idempotentRequestOf } from './idempotent-request.js';

const OK = 200;

/**
 * The one mechanism behind the idempotent routes, REST and TCP alike: a request with a key is
 * recorded before the handler (its validation included) runs; its answer, success or error, is
 * stored; a repeat gets that answer again. Requests without a key pass through untouched.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly idempotency: IdempotencyService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const request = idempotentRequestOf(context);
    if (request === null) return next.handle();
    return from(this.handle(context, request, next));
  }

  private async handle(context: ExecutionContext, request: IdempotentRequest, next: CallHandler): Promise<unknown> {
    const stored = await this.idempotency.claim(request);
    if (stored) return replay(context, stored);
    let body: unknown;
    try {
      body = await lastValueFrom(next.handle(), { defaultValue: undefined });
    } catch (error) {
      const answer = errorBody(error, request.correlationId);
      await this.idempotency.complete(request, { status: answer.statusCode, body: answer });
      throw error;
    }
    await this.idempotency.complete(request, { status: successStatus(context), body });
    return body;
  }
}

/** The status the route answered with (@HttpCode, or set by the handler); a TCP reply has none. */
function successStatus(context: ExecutionContext): number {
  return context.getType() === 'http' ? context.switchToHttp().getResponse<Response>().statusCode : OK;
}

/**
 * The stored answer again. Over HTTP with `Idempotent-Replayed: true`; over TCP there is no header,
 * so a replay is the same reply (or the same RPC error) as the first. Errors go through the
 * exception filter, which sends them unchanged.
 */
function replay(context: ExecutionContext, stored: Answer): unknown {
  if (context.getType() === 'http') {
    const response = context.switchToHttp().getResponse<Response>();
    response.setHeader(REPLAYED_HEADER, 'true');
    if (stored.status < 400) response.status(stored.status);
  }
  if (stored.status >= 400) throw new ReplayedErrorAnswer(stored.body as ErrorBody);
  return stored.body;
}
