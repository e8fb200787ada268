import type { NestApplicationOptions } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Server } from 'node:http';
import { MAX_BODY_BYTES, requireJsonBody } from './common/json-body.js';
import type { AppConfig } from './config/configuration.js';
import { guardHttpServer } from './edge/http-connections.js';
import { setupOpenApi } from './openapi/openapi.setup.js';

/**
 * Options for creating the HTTP application. Nest's own parsers would also read form-encoded
 * bodies; configureApp installs the only parser instead.
 */
export const HTTP_APP_OPTIONS = { bodyParser: false } satisfies NestApplicationOptions;

/**
 * The HTTP edge, shared by main.ts and the e2e app so that tests run what production runs: JSON
 * bodies only (415 for any other type), a size limit, no framework banner, the OpenAPI document and
 * its UI behind the API's token, and the listener's bounds per client (src/edge/). Call before `init()`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  const edge = app.get(ConfigService<AppConfig, true>).get('edge', { infer: true });
  guardHttpServer(app.getHttpServer() as Server, edge.httpMaxConnections, edge);
  app.disable('x-powered-by');
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: MAX_BODY_BYTES, type: 'application/json', strict: true });
  setupOpenApi(app);
  return app;
}
