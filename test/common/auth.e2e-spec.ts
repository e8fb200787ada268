import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { createTestApp, errorBody, serverBody, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, scratchDir, type TestDatabase } from '../support/databases.js';

const ID = '6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b';
const ROUTES: [method: 'get' | 'post' | 'patch' | 'delete', path: string][] = [
  ['get', '/api/servers'],
  ['post', '/api/servers'],
  ['get', `/api/servers/${ID}`],
  ['patch', `/api/servers/${ID}`],
  ['delete', `/api/servers/${ID}`],
  ['post', `/api/servers/${ID}/exec`],
  ['get', '/api/server-status/pool/stats'],
];
const BAD_AUTHORIZATION: [what: string, header: string | null][] = [
  ['no Authorization header', null],
  ['a wrong token', 'Bearer not-the-token'],
  ['the token with one character more', `Bearer ${TEST_TOKEN}x`],
  ['a prefix of the token', `Bearer ${TEST_TOKEN.slice(0, -1)}`],
  ['Basic credentials', `Basic ${Buffer.from(`user:${TEST_TOKEN}`).toString('base64')}`],
  ['the token without a scheme', TEST_TOKEN],
  ['an empty bearer', 'Bearer '],
];

describe.each(DATABASE_KINDS)('bearer authentication (%s)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ DATABASE_URL: db.url, API_TOKENS: `other-token, ${TEST_TOKEN}` });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it.each(ROUTES)('%s %s without a token → 401 UNAUTHORIZED', async (method, path) => {
    const res = await t.http[method](path).send(method === 'get' || method === 'delete' ? undefined : serverBody());
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody(401, 'UNAUTHORIZED'));
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it.each(BAD_AUTHORIZATION)('rejects %s', async (_what, header) => {
    const req = t.http.get('/api/servers');
    const res = await (header === null ? req : req.set('Authorization', header));
    expect(res.status).toBe(401);
    expect(res.body).toEqual(errorBody(401, 'UNAUTHORIZED'));
  });

  it('checks the token before validating the body, so a bad request tells nothing to strangers', async () => {
    const res = await t.http.post('/api/servers').send({ isAdmin: true }).expect(401);
    expect(res.body.code).toBe('UNAUTHORIZED');
  });

  it('accepts every token of API_TOKENS, with the scheme in any case', async () => {
    await t.http.get('/api/servers').set('Authorization', 'Bearer other-token').expect(200);
    await t.http.get('/api/servers').set('Authorization', `bearer ${TEST_TOKEN}`).expect(200);
    await t.api.get('/api/servers').expect(200);
  });
});

describe('generated API token', () => {
  let db: TestDatabase;
  let dataDir: string;
  const apps: TestApp[] = [];

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    dataDir = join(scratchDir('token'), 'data');
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
  });

  it('is created once in DATA_DIR/api-token with mode 0600, kept across restarts, and works', async () => {
    // API_TOKENS empty counts as unset.
    const first = await createTestApp({ DATABASE_URL: db.url, DATA_DIR: dataDir, API_TOKENS: '' });
    apps.push(first);
    const file = join(dataDir, 'api-token');
    const token = (await readFile(file, 'utf8')).trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    await first.http.get('/api/servers').set('Authorization', `Bearer ${token}`).expect(200);
    await first.http.get('/api/servers').set('Authorization', `Bearer ${TEST_TOKEN}`).expect(401);
    await first.close();
    apps.pop();

    const second = await createTestApp({ DATABASE_URL: db.url, DATA_DIR: dataDir, API_TOKENS: '' });
    apps.push(second);
    expect((await readFile(file, 'utf8')).trim()).toBe(token);
    await request(second.app.getHttpServer()).get('/api/servers').set('Authorization', `Bearer ${token}`).expect(200);
  });
});
