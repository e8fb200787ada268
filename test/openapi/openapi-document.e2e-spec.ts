import { Validator } from '@seriousme/openapi-schema-validator';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BadRequestException, PayloadTooLargeException, UnauthorizedException, UnsupportedMediaTypeException } from '@nestjs/common';
import { errorBody as buildErrorBody } from '../../src/common/error-response.js';
import { RequestValidationError } from '../../src/common/request-validation.error.js';
import { DatabaseError } from '../../src/database/database-errors.js';
import { NotReadyError } from '../../src/health/health.errors.js';
import { IdempotencyError, IdempotencyErrorCode } from '../../src/idempotency/idempotency.errors.js';
import { OperationError, OperationErrorCode } from '../../src/operations/operations.errors.js';
import { ServerError, ServerErrorCode } from '../../src/servers/servers.errors.js';
import { SshPoolError, SshPoolErrorCode } from '../../src/ssh-pool/ssh-pool.errors.js';
import { ALL_ERROR_CODES } from '../../src/openapi/api-errors.js';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, scratchDir } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { freePort } from '../support/sshd.js';
import type { ParameterObject } from '@nestjs/swagger';
import { documentedCodes, mappedRoutes, type OpenAPIObject, operations, resolve, type SchemaObject } from './openapi-support.js';

/** The validator's verdict on a document: `{ valid: true }`, or `valid: false` with its errors. */
const validate = (document: unknown, validator = new Validator()) => validator.validate(document as Parameters<Validator['validate']>[0]);
const ENTRY = join(process.cwd(), 'dist', 'main.js');
const SECRET_FIELDS = ['sshPassword', 'sshPrivateKey', 'sshKeyPassphrase'];
const isPublic = (path: string) => path.startsWith('/health/') || path === '/metrics';

/** Every schema reachable from `schema`, following $refs, each once. */
function reachable(doc: OpenAPIObject, schema: object, seen = new Set<object>()): SchemaObject[] {
  const s = resolve(doc, schema as SchemaObject);
  if (seen.has(s)) return [];
  seen.add(s);
  const children = [...Object.values(s.properties ?? {}), ...(s.allOf ?? []), ...(s.oneOf ?? []), ...(s.items ? [s.items] : [])];
  return [s, ...children.flatMap((child) => reachable(doc, child, seen))];
}

describe('the OpenAPI document (/api/docs-json)', () => {
  let t: TestApp;
  let doc: OpenAPIObject;

  beforeAll(async () => {
    const db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url });
    doc = (await t.api.get('/api/docs-json').expect(200).expect('Content-Type', /application\/json/)).body as OpenAPIObject;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is valid OpenAPI 3.0 according to @seriousme/openapi-schema-validator (schema and $refs)', async () => {
    const validator = new Validator();
    await expect(validate(structuredClone(doc), validator)).resolves.toEqual({ valid: true });
    expect(validator.version).toBe('3.0');
  });

  it('is checked by a validator that does reject a broken document', async () => {
    const broken = structuredClone(doc);
    broken.paths['/api/servers'].get!.responses['200'] = { description: 'x', content: { 'application/json': { schema: { $ref: '#/components/schemas/Nowhere' } } } };
    await expect(validate(broken)).resolves.toEqual({ valid: false, errors: expect.stringContaining('Nowhere') });
    await expect(validate({ ...structuredClone(doc), info: 'cs2-ssh-pool' })).resolves.toMatchObject({ valid: false, errors: [{ instancePath: '/info' }] });
  });

  // Nothing in the document may depend on how the code was compiled (nest build vs ts-jest).
  it('is the document the built service (dist/main.js) serves, behind the token there too', async () => {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: scripts/test.sh builds it before jest (npm run build)`);
    const [port, dataDir] = [await freePort(), scratchDir('openapi-built')];
    const env = { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', INTERNAL_TCP_PORT: '0', API_TOKENS: TEST_TOKEN, DATA_DIR: dataDir };
    const child = spawn(process.execPath, [ENTRY], { env: { ...env, DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    try {
      await eventually('the service to listen', () => output.includes('HTTP listening'), 20_000);
      const url = `http://127.0.0.1:${port}/api/docs-json`;
      expect((await fetch(url)).status).toBe(401);
      const built = await fetch(url, { headers: { authorization: `Bearer ${TEST_TOKEN}` } });
      expect(built.status).toBe(200);
      expect(await built.json()).toEqual(doc);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('holds exactly the HTTP routes Nest mapped', () => {
    const mapped = mappedRoutes(t.app);
    expect(mapped.length).toBeGreaterThanOrEqual(18);
    expect(operations(doc).map((o) => o.route).sort()).toEqual(mapped);
  });

  it('names each parameter of a route once (headers case-insensitively, as HTTP compares them) and requires no header', () => {
    for (const { route, operation } of operations(doc)) {
      const parameters = (operation.parameters ?? []) as ParameterObject[];
      const keys = parameters.map((p) => `${p.in} ${p.in === 'header' ? p.name.toLowerCase() : p.name}`);
      const requiredHeaders = parameters.filter((p) => p.in === 'header' && p.required).map((p) => p.name);
      expect({ route, duplicates: keys.filter((key, i) => keys.indexOf(key) !== i), requiredHeaders }).toEqual({ route, duplicates: [], requiredHeaders: [] });
    }
  });

  it('declares the bearer scheme on every /api route and none on /health and /metrics', () => {
    expect(doc.components?.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer' });
    expect(doc.security).toBeUndefined();
    for (const { route, path, operation } of operations(doc)) {
      if (isPublic(path)) {
        expect({ route, security: operation.security }).toEqual({ route, security: undefined });
      } else {
        expect({ route, security: operation.security }).toEqual({ route, security: [{ bearer: [] }] });
        expect({ route, codes: documentedCodes(doc, route, 401) }).toEqual({ route, codes: ['UNAUTHORIZED'] });
      }
    }
  });

  it('marks the secret fields writeOnly in every request body and never names them in a response', () => {
    for (const name of ['CreateServerDto', 'UpdateServerDto']) {
      const properties = resolve(doc, { $ref: `#/components/schemas/${name}` }).properties ?? {};
      for (const field of SECRET_FIELDS) expect({ name, field, writeOnly: (properties[field] as SchemaObject).writeOnly }).toEqual({ name, field, writeOnly: true });
    }
    const responseSchemas = operations(doc).flatMap(({ operation }) =>
      Object.values(operation.responses).flatMap((r) => Object.values((r && 'content' in r && r.content) || {}).flatMap((media) => (media.schema ? reachable(doc, media.schema) : []))),
    );
    const named = responseSchemas.flatMap((s) => Object.keys(s.properties ?? {}));
    expect(named).toContain('hasPassword');
    expect(named.filter((key) => SECRET_FIELDS.includes(key))).toEqual([]);
  });

  it('gives every route a 500 and every error response the ErrorBody schema, with codes the error filter answers at that status', () => {
    const errorBodyRef = { $ref: '#/components/schemas/ErrorBody' };
    for (const { route, operation } of operations(doc)) {
      expect({ route, has500: '500' in operation.responses }).toEqual({ route, has500: true });
      for (const status of Object.keys(operation.responses).map(Number).filter((s) => s >= 400)) {
        const codes = documentedCodes(doc, route, status);
        expect({ route, status, hasCodes: codes.length > 0 }).toEqual({ route, status, hasCodes: true });
        for (const code of codes) expect({ route, code, status: statusFromFilter(code) }).toEqual({ route, code, status });
      }
      const schemas = Object.entries(operation.responses).filter(([s]) => Number(s) >= 400);
      for (const [, response] of schemas) expect(JSON.stringify(response)).toContain(JSON.stringify(errorBodyRef));
    }
  });

  it('lists every error code in the ErrorCode enum', () => {
    const codes = resolve(doc, { $ref: '#/components/schemas/ErrorCode' }).enum;
    expect(codes).toEqual([...ALL_ERROR_CODES]);
    for (const code of [...Object.values(SshPoolErrorCode), ...Object.values(ServerErrorCode), ...Object.values(OperationErrorCode), 'UNAUTHORIZED', 'VALIDATION_FAILED', 'NOT_READY']) {
      expect(codes).toContain(code);
    }
  });
});

/** An error of each code the HTTP edge answers, as the framework or the app raises it. */
const EDGE_SAMPLES: Record<string, unknown> = {
  VALIDATION_FAILED: new RequestValidationError([]),
  MALFORMED_JSON: new BadRequestException('x', { cause: new SyntaxError('x') }),
  MALFORMED_URL: new BadRequestException('x', { cause: new URIError('x') }),
  UNAUTHORIZED: new UnauthorizedException(),
  PAYLOAD_TOO_LARGE: new PayloadTooLargeException(),
  UNSUPPORTED_MEDIA_TYPE: new UnsupportedMediaTypeException(),
  INTERNAL_ERROR: new Error('a bug'),
  NOT_READY: new NotReadyError({}),
  DATABASE_UNAVAILABLE: new DatabaseError(),
};

/** The status the real error filter answers a code with, from an error that carries it. */
function statusFromFilter(code: string): number {
  let error: unknown = EDGE_SAMPLES[code];
  if ((Object.values(SshPoolErrorCode) as string[]).includes(code)) error = new SshPoolError(code as SshPoolErrorCode, 'x');
  if ((Object.values(ServerErrorCode) as string[]).includes(code)) error = new ServerError(code as ServerErrorCode, 'x');
  if ((Object.values(OperationErrorCode) as string[]).includes(code)) error = new OperationError(code as OperationErrorCode, 'x');
  if ((Object.values(IdempotencyErrorCode) as string[]).includes(code)) error = new IdempotencyError(code as IdempotencyErrorCode, 'x');
  if (error === undefined) throw new Error(`no sample error for ${code}`);
  const body = buildErrorBody(error, 'id');
  if (body.code !== code) throw new Error(`the filter answers ${body.code} for the ${code} sample`);
  return body.statusCode;
}
