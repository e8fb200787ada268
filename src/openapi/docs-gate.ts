import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { NotFoundException } from '@nestjs/common';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { AllExceptionsFilter } from '../common/all-exceptions.filter.js';
import type { ApiTokenGuard } from '../common/api-token.guard.js';
import { correlationIdOf, REQUEST_ID_HEADER } from '../common/correlation-id.js';
import { loadDocsAssets } from './docs-assets.js';
import { DOCS_INIT_SCRIPT, DOCS_INIT_SCRIPT_PATH, DOCS_PATH, PUBLIC_DOCS_FILES } from './docs-ui.js';

/** `/api/docs`, `/api/docs/…`, `/api/docs-json`, `/api/docs-yaml`…: every path SwaggerModule may serve. */
const DOCS_PATHS = /^\/api\/docs(?:[-/]|$)/i;

/** A file name under `/api/docs/`: served from memory, or not at all (never by SwaggerModule's static handler). */
const DOCS_FILE = new RegExp(`^${DOCS_PATH}/.*\\.[a-z0-9]+$`);

/** Names the gate in the guard's metadata look-ups; it carries no `@Public()`. */
class OpenApiDocs {}

/**
 * Express middleware in front of SwaggerModule's handlers, which are not Nest routes and so pass
 * neither the global guard nor the error filter. It runs that guard and, on refusal, that filter,
 * so the document answers 401 `UNAUTHORIZED` exactly as any `/api` route does.
 */
export function docsGate(guard: ApiTokenGuard, filter: AllExceptionsFilter): RequestHandler {
  const assets = loadDocsAssets();
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
    const asset = assets.get(path);
    if (asset) {
      response.type(asset.type).send(asset.body);
      return;
    }
    if (PUBLIC_DOCS_FILES.has(path)) {
      next();
      return;
    }
    const context = new ExecutionContextHost([request, response, next], OpenApiDocs, gate);
    try {
      guard.canActivate(context);
      if (DOCS_FILE.test(path)) throw new NotFoundException(`Cannot ${request.method} ${request.path}`);
      next();
    } catch (error) {
      filter.catch(error, context);
    }
  };
  return gate;
}
