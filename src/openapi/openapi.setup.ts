import type { INestApplication } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { readFileSync } from 'node:fs';
import { AllExceptionsFilter } from '../common/all-exceptions.filter.js';
import { ApiTokenGuard } from '../common/api-token.guard.js';
import { API_TOKENS } from '../common/api-tokens.provider.js';
import { BEARER_SCHEME } from './api-errors.js';
import { docsGate } from './docs-gate.js';
import { DOCS_JSON_PATH, DOCS_PATH } from './docs-ui.js';

/** The same relative path from src/openapi and dist/openapi. */
const packageVersion = (): string => (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const DESCRIPTION =
  'Pooled, authenticated SSH to CS2 game-server hosts. Every `/api` route needs `Authorization: Bearer <token>`; ' +
  '`/health/*` and `/metrics` need none. Every error answers `ErrorBody`; its `code` says what went wrong.';

/** The OpenAPI document of every route Nest mapped, built from the controllers' decorators. */
export function buildOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('cs2-ssh-pool')
    .setDescription(DESCRIPTION)
    .setVersion(packageVersion())
    .addBearerAuth({ type: 'http', scheme: 'bearer', bearerFormat: 'opaque', description: 'A token from API_TOKENS (or data/api-token).' }, BEARER_SCHEME)
    .build();
  return SwaggerModule.createDocument(app, config, {
    // Tags come from @ApiTags only: a made-up tag per controller listed routes under two tags in the UI.
    autoTagControllers: false,
    operationIdFactory: (controller, method) => `${controller.replace(/Controller$/, '')}_${method}`,
  });
}

/**
 * The UI at `/api/docs`, the document at `/api/docs-json` (no YAML: one format to protect and test).
 * The gate goes first: Express runs handlers in the order they were added.
 */
export function setupOpenApi(app: NestExpressApplication): void {
  const guard = new ApiTokenGuard(app.get<readonly string[]>(API_TOKENS, { strict: false }), app.get(Reflector));
  app.use(docsGate(guard, new AllExceptionsFilter()));
  SwaggerModule.setup(DOCS_PATH, app, () => buildOpenApiDocument(app), {
    raw: ['json'],
    jsonDocumentUrl: DOCS_JSON_PATH,
    customSiteTitle: 'cs2-ssh-pool API',
  });
}
