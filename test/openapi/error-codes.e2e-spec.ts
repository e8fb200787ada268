// The ErrorCode enum of the OpenAPI document against what the error filter can really answer, and the
// codes table of docs/api.md against the enum. Both lists are read from the source and from the running
// app, not written down here, so that a code added anywhere is checked without touching this file.
import * as nestCommon from '@nestjs/common';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { errorBody } from '../../src/common/error-response.js';
import { MAX_BODY_BYTES } from '../../src/common/json-body.js';
import { type ApiErrorCode, statusOfCode } from '../../src/openapi/api-errors.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { type OpenAPIObject, resolve } from './openapi-support.js';

const SRC = join(process.cwd(), 'src');
/** The TCP transport's own errors (a pattern no handler serves) are RPC replies, never HTTP answers. */
const RPC_ONLY = join(SRC, 'transport');

function sourceFiles(): { path: string; text: string }[] {
  return readdirSync(SRC, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
    .map((file) => join(SRC, file))
    .filter((path) => !path.startsWith(RPC_ONLY))
    .map((path) => ({ path, text: readFileSync(path, 'utf8') }));
}

const matches = (text: string, pattern: RegExp) => [...text.matchAll(pattern)].map((m) => m[1]);

/** Every value of every exported `…ErrorCode` enum under src/ (imported, not parsed: the enum's real values). */
async function domainEnumCodes(files: { path: string; text: string }[]): Promise<string[]> {
  const codes: string[] = [];
  for (const { path, text } of files) {
    const names = matches(text, /export enum (\w*ErrorCode)\b/g);
    if (names.length === 0) continue;
    const module = (await import(path)) as Record<string, Record<string, string>>;
    for (const name of names) codes.push(...Object.values(module[name]));
  }
  return codes;
}

/**
 * Codes fixed in the source: a DomainError subclass's `readonly code = '…'` (NOT_READY,
 * VALIDATION_FAILED…) and the filter's own literals (MALFORMED_JSON, INTERNAL_ERROR…).
 */
function literalCodes(files: { path: string; text: string }[]): string[] {
  const errorResponse = files.find((f) => relative(SRC, f.path) === join('common', 'error-response.ts'));
  if (!errorResponse) throw new Error('src/common/error-response.ts not found');
  return [...files.flatMap(({ text }) => matches(text, /readonly code = '([A-Z_]+)'/g)), ...matches(errorResponse.text, /code: '([A-Z_]+)'/g)];
}

/** The code the filter gives each Nest HTTP exception the source throws (`new UnauthorizedException(…)`). */
function frameworkExceptionCodes(files: { path: string; text: string }[]): string[] {
  const names = new Set(files.flatMap(({ text }) => matches(text, /new (\w+Exception)\(/g)));
  return [...names].map((name) => {
    const Exception = (nestCommon as unknown as Record<string, new () => Error>)[name];
    if (typeof Exception !== 'function') throw new Error(`${name} is not one of @nestjs/common's exceptions`);
    return errorBody(new Exception(), 'x').code;
  });
}

/** The `code | status | when` table under "## Errors": each backticked code in the first column, with its status. */
function docsCodesTable(): Map<string, number> {
  const text = readFileSync(join(process.cwd(), 'docs', 'api.md'), 'utf8');
  const section = text.slice(text.indexOf('\n## Errors'), text.indexOf('\n## ', text.indexOf('\n## Errors') + 1));
  const table = new Map<string, number>();
  for (const [, first, status] of section.matchAll(/^\| ([^|]+) \| (\d{3}) \|/gm)) {
    for (const code of matches(first, /`([A-Z_]+)`/g)) table.set(code, Number(status));
  }
  return table;
}

describe('error codes: the OpenAPI ErrorCode enum and docs/api.md', () => {
  let t: TestApp;
  let enumCodes: string[];
  let emitted: Set<string>;

  beforeAll(async () => {
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
    const doc = (await t.api.get('/api/docs-json').expect(200)).body as OpenAPIObject;
    enumCodes = resolve(doc, { $ref: '#/components/schemas/ErrorCode' }).enum as string[];
    const files = sourceFiles();
    // What the framework raises outside our source: an unknown route (Nest's router) and an oversized body (body-parser).
    const unknownRoute = await t.api.get('/api/no-such-route').expect(404);
    const oversized = await t.api.post('/api/servers').set('content-type', 'application/json').send(`"${'x'.repeat(MAX_BODY_BYTES)}"`).expect(413);
    emitted = new Set([
      ...(await domainEnumCodes(files)),
      ...literalCodes(files),
      ...frameworkExceptionCodes(files),
      unknownRoute.body.code as string,
      oversized.body.code as string,
    ]);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('finds the codes it claims to walk (the walk itself works)', () => {
    for (const code of ['SERVER_NOT_FOUND', 'SSH_HOST_KEY_MISMATCH', 'OPERATION_IN_PROGRESS', 'NOT_READY', 'VALIDATION_FAILED', 'MALFORMED_JSON', 'UNAUTHORIZED', 'NOT_FOUND', 'PAYLOAD_TOO_LARGE']) {
      expect({ code, found: emitted.has(code) }).toEqual({ code, found: true });
    }
  });

  it('names in the enum every code the error filter can answer over HTTP', () => {
    expect([...emitted].filter((code) => !enumCodes.includes(code)).sort()).toEqual([]);
  });

  it('lists in docs/api.md exactly the enum, each with its status', () => {
    const table = docsCodesTable();
    expect([...table.keys()].sort()).toEqual([...enumCodes].sort());
    const statuses = Object.fromEntries(enumCodes.map((code) => [code, statusOfCode(code as ApiErrorCode)]));
    expect(Object.fromEntries(table)).toEqual(statuses);
  });
});
