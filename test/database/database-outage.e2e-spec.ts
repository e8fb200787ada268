// The API's answers when a query cannot be run: a paging offset no database takes is the caller's
// mistake (400), and a database that went away is an outage (503 DATABASE_UNAVAILABLE), never a 500.
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { SwitchableProxy } from '../status/pool-fixtures.js';

describe('database errors over HTTP (PostgreSQL through a proxy that can go away)', () => {
  let db: TestDatabase;
  let proxy: SwitchableProxy;
  let t: TestApp;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    const url = new URL(db.url);
    proxy = await SwitchableProxy.start();
    proxy.forwardTo = { host: url.hostname, port: Number(url.port || 5432) };
    url.hostname = '127.0.0.1';
    url.port = String(proxy.port);
    t = await createTestApp({ DATABASE_URL: url.toString() });
  });
  afterAll(async () => {
    await t?.close();
    await proxy?.stop();
    await db?.drop();
  });

  it('answers an offset beyond any integer column with 400 VALIDATION_FAILED naming it', async () => {
    const body = { name: 'paged', host: '10.0.0.5', sshPort: 22, sshUser: 'cs2', authType: 'PASSWORD', sshPassword: 'pw', gameDirectory: '/srv/cs2', gamePort: 27015 };
    const { id } = (await t.api.post('/api/servers').send(body).expect(201)).body;
    const res = await t.api.get(`/api/servers/${id}/operations?offset=1e20`);
    expect({ status: res.status, body: res.body }).toEqual({
      status: 400,
      body: { ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'offset', messages: [expect.any(String)] }] },
    });
  });

  it('answers 503 DATABASE_UNAVAILABLE while the database cannot be reached, and serves again after', async () => {
    await t.api.get('/api/servers').expect(200);
    proxy.forwardTo = null; // new connections are dropped at once
    proxy.cut();
    for (let i = 0; i < 2; i++) {
      const res = await t.api.get('/api/servers');
      expect({ status: res.status, body: res.body }).toEqual({ status: 503, body: errorBody(503, 'DATABASE_UNAVAILABLE') });
    }
    const url = new URL(db.url);
    proxy.forwardTo = { host: url.hostname, port: Number(url.port || 5432) };
    await t.api.get('/api/servers').expect(200);
  });
});
