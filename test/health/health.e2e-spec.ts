import { DataSource } from 'typeorm';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';

describe('health probes (terminus)', () => {
  let db: TestDatabase;
  let t: TestApp;

  beforeEach(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url });
  });
  afterEach(async () => {
    await t?.close();
  });

  it('answers liveness without a token', async () => {
    await t.http.get('/health/live').expect(200, { status: 'ok' });
  });

  it('is ready with the pool and database indicators up', async () => {
    const response = await t.http.get('/health/ready').expect(200);
    expect(response.body).toMatchObject({
      status: 'ok',
      info: {
        ssh_pool: { status: 'up', enabled: true, connections: 0, inUse: 0, channelsInUse: 0, waiters: 0 },
        database: { status: 'up' },
      },
    });
  });

  it('turns not-ready (503) as soon as the pool is shutting down', async () => {
    await t.app.get(SshPoolService).shutdown();
    const response = await t.http.get('/health/ready').expect(503);
    expect(response.body).toMatchObject({
      statusCode: 503,
      code: 'NOT_READY',
      correlationId: expect.any(String),
      details: { status: 'error', error: { ssh_pool: { status: 'down', message: 'shutting down' } } },
    });
    await t.http.get('/health/live').expect(200);
  });

  it('turns not-ready (503) when the database is unreachable', async () => {
    await t.app.get(DataSource).destroy();
    const response = await t.http.get('/health/ready').expect(503);
    expect(response.body).toMatchObject({ code: 'NOT_READY', details: { error: { database: { status: 'down' } } } });
  });
});
