// Bad input on every pool management route: 4xx with the contract's error body, never 5xx, nothing done.
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, errorBody, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';

type Method = 'get' | 'post' | 'delete';
const UNKNOWN = '6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b';
const ROUTES: [Method, string][] = [
  ['get', '/api/server-status/pool/connections'],
  ['post', '/api/server-status/pool/cleanup'],
  ['post', '/api/server-status/pool/close-all'],
  ['delete', '/api/server-status/pool/connections/:id'],
  ['get', '/api/server-status/:id/connection'],
  ['post', '/api/server-status/:id/reconnect'],
];
const WITH_ID = ROUTES.filter(([, path]) => path.includes(':id'));
const WITHOUT_BODY = ROUTES.filter(([method]) => method !== 'get');

interface BadInput {
  what: string;
  send: { type?: string; raw?: string; body?: unknown };
  status: number;
  code: string;
  field?: string;
}
const BODIES: BadInput[] = [
  { what: 'an unknown field', send: { body: { force: true } }, status: 400, code: 'VALIDATION_FAILED', field: 'force' },
  { what: 'a JSON array', send: { body: [1] }, status: 400, code: 'VALIDATION_FAILED', field: 'body' },
  { what: 'a __proto__ key', send: { raw: '{"__proto__":{"x":1}}' }, status: 400, code: 'VALIDATION_FAILED', field: '__proto__' },
  { what: 'malformed JSON', send: { raw: '{"force":' }, status: 400, code: 'MALFORMED_JSON' },
  { what: 'a form-encoded body', send: { type: 'application/x-www-form-urlencoded', raw: 'force=1' }, status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
];

describe.each(DATABASE_KINDS)('pool management routes: bad input (%s)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let existing: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ DATABASE_URL: db.url });
    // An unroutable host: these requests must fail before any connect.
    existing = (await t.api.post('/api/servers').send(serverBody()).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const path = (template: string, id = existing) => template.replace(':id', id);
  const expectError = (res: { status: number; body: unknown }, status: number, code: string, field?: string) =>
    expect({ status: res.status, body: res.body }).toEqual({
      status,
      body: { ...errorBody(status, code), ...(field ? { details: [{ field, messages: [expect.any(String)] }] } : {}) },
    });

  it.each(ROUTES)('%s %s without a token → 401', async (method, template) => {
    const res = await t.http[method](path(template));
    expectError(res, 401, 'UNAUTHORIZED');
  });

  it.each(WITH_ID)('%s %s with a malformed id → 400 naming serverId', async (method, template) => {
    for (const id of ['not-a-uuid', '123', `${UNKNOWN}x`, '1%20OR%201=1']) {
      expectError(await t.api[method](path(template, id)), 400, 'VALIDATION_FAILED', 'serverId');
    }
  });

  it.each(WITH_ID)('%s %s with an unknown id → 404 SERVER_NOT_FOUND', async (method, template) => {
    const res = await t.api[method](path(template, UNKNOWN));
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 404, code: 'SERVER_NOT_FOUND' });
    expect(res.body).toMatchObject(errorBody(404, 'SERVER_NOT_FOUND'));
  });

  describe.each(WITHOUT_BODY)('%s %s', (method, template) => {
    it.each(BODIES.map((b) => [b.what, b] as const))('with %s → 4xx, nothing done', async (_what, c) => {
      const stats = t.app.get(SshPoolService).getStats();
      let req = t.api[method](path(template));
      if (c.send.raw !== undefined) req = req.set('Content-Type', c.send.type ?? 'application/json');
      const res = await (c.send.raw !== undefined ? req.send(c.send.raw) : req.send(c.send.body as object));
      expectError(res, c.status, c.code, c.field);
      expect(t.app.get(SshPoolService).getStats()).toEqual(stats);
    });
  });

  it('takes no body or {} on the POST routes that need no server', async () => {
    await expect(t.api.post('/api/server-status/pool/cleanup')).resolves.toMatchObject({ status: 200, body: { success: true, removed: 0 } });
    await expect(t.api.post('/api/server-status/pool/close-all').send({})).resolves.toMatchObject({
      status: 200,
      body: { success: true, closed: 0, retiring: 0 },
    });
  });
});
