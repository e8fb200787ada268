import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AllExceptionsFilter } from '../common/all-exceptions.filter.js';
import type { ApiTokenGuard } from '../common/api-token.guard.js';
import { correlationIdOf, REQUEST_ID_HEADER } from '../common/correlation-id.js';
import { DOCS_INIT_SCRIPT, DOCS_INIT_SCRIPT_PATH, PUBLIC_DOCS_FILES } from './docs-ui.js';

/** `/api/docs`, `/api/docs/…`, `/api/docs-json`, `/api/docs-yaml`…: every path SwaggerModule may serve. */
const DOCS_PATHS = /^\/api\/docs(?:[-/]|$)/i;

/** Names the gate in the guard's metadata look-ups; it carries no `@Public()`. */
class OpenApiDocs {}

/**
 * Express middleware in front of SwaggerModule's handlers, which are not Nest routes and so pass
 * neither the global guard nor the error filter. It runs that guard and, on refusal, that filter,
 * so the document answers 401 `UNAUTHORIZED` exactly as any `/api` route does.
 */
export function docsGate(guard: ApiTokenGuard, filter: AllExceptionsFilter): RequestHandler {
  const gate = (request: Request, response: Response, next: NextFunction): void => {
    if (!DOCS_PATHS.test(request.path)) {
      next();
      return;
    }
    response.setHeader(REQUEST_ID_HEADER, correlationIdOf(request));
    const path = request.path.toLowerCase();
    if (path === DOCS_INIT_SCRIPT_PATH) {
      response.type('application/javascript').send(DOCS_INIT_SCRIPT);
      return;
    }
    if (PUBLIC_DOCS_FILES.has(path)) {
      next();
      return;
    }
    const context = new ExecutionContextHost([request, response, next], OpenApiDocs, gate);
    try {
      guard.canActivate(context);
      next();
    } catch (error) {
      filter.catch(error, context);
    }
  };
  return gate;
}
