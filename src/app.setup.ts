import type { NestApplicationOptions } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { MAX_BODY_BYTES, requireJsonBody } from './common/json-body.js';
import { setupOpenApi } from './openapi/openapi.setup.js';

/**
 * Options for creating the HTTP application. Nest's own parsers would also read form-encoded
 * bodies; configureApp installs the only parser instead.
 */
export const HTTP_APP_OPTIONS = { bodyParser: false } satisfies NestApplicationOptions;

/**
 * The HTTP edge, shared by main.ts and the e2e app so that tests run what production runs: JSON
 * bodies only (415 for any other type), a size limit, no framework banner, the OpenAPI document and
 * its UI behind the API's token. Call before `init()`.
 */
export function configureApp(app: NestExpressApplication): NestExpressApplication {
  app.disable('x-powered-by');
  app.use(requireJsonBody);
  app.useBodyParser('json', { limit: MAX_BODY_BYTES, type: 'application/json', strict: true });
  setupOpenApi(app);
  return app;
}
