import { Injectable, type NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { METHODS } from 'node:http';
import { MetricsService } from './metrics.service.js';

/** The label value for requests no route matched (unknown paths), so raw paths never become labels. */
export const UNMATCHED_ROUTE = 'unmatched';

const KNOWN_METHODS = new Set(METHODS);

/**
 * Route template Express matched (`/api/servers/:id/exec`), read when the response is done: by
 * then routing has happened, whichever guard, pipe or filter answered.
 */
function routeTemplateOf(request: Request): string {
  const path: unknown = request.route?.path;
  return typeof path === 'string' ? `${request.baseUrl}${path}` : UNMATCHED_ROUTE;
}

/**
 * Times every request that reaches Nest's middleware, including those a guard or the exception
 * filter answers (401, 404, 5xx). Requests the body parser rejects never reach middleware.
 */
@Injectable()
export class HttpMetricsMiddleware implements NestMiddleware {
  constructor(private readonly metrics: MetricsService) {}

  use(request: Request, response: Response, next: NextFunction): void {
    const started = performance.now();
    response.once('finish', () => {
      const method = KNOWN_METHODS.has(request.method) ? request.method : 'OTHER';
      this.metrics.observeHttpRequest(method, routeTemplateOf(request), response.statusCode, (performance.now() - started) / 1000);
    });
    next();
  }
}
