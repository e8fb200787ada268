import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { randomUUID } from 'node:crypto';

export const REQUEST_ID_HEADER = 'X-Request-Id';

/** Caller-supplied ids are accepted only in this shape, so that they cannot inject into headers or logs. */
const ACCEPTABLE_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const ids = new WeakMap<object, string>();

/** The id stored for `owner`, else the caller's `supplied` one when acceptable, else a new UUID. */
function stableId(owner: object, supplied: unknown): string {
  let id = ids.get(owner);
  if (id === undefined) {
    id = typeof supplied === 'string' && ACCEPTABLE_ID.test(supplied) ? supplied : randomUUID();
    ids.set(owner, id);
  }
  return id;
}

/** The request's correlation id: the caller's `X-Request-Id` when acceptable, else a new UUID; stable per request. */
export function correlationIdOf(request: Request): string {
  return stableId(request, request.headers['x-request-id']);
}

/** An RPC message's correlation id: its payload's `correlationId` when acceptable, else a new UUID; stable per payload. */
export function rpcCorrelationIdOf(data: unknown): string {
  if (typeof data !== 'object' || data === null) return randomUUID();
  return stableId(data, 'correlationId' in data ? data.correlationId : undefined);
}

/** Echoes the correlation id on every response; the exception filter reuses the same id. */
@Injectable()
export class CorrelationIdMiddleware implements NestMiddleware {
  use(request: Request, response: Response, next: NextFunction): void {
    response.setHeader(REQUEST_ID_HEADER, correlationIdOf(request));
    next();
  }
}
