// Two (three) app instances on one PostgreSQL database, as replicas behind a load balancer: each caches
// its servers' SSH targets, a change through one must reach the others' caches (LISTEN/NOTIFY), and a
// change whose notification is lost must not outlive SERVER_CACHE_TTL_MS. Counted at sshd.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type request from 'supertest';
import { LISTENER_APPLICATION_NAME } from '../../src/database/pg-notify-listener.js';
import { SERVER_CHANGES_CHANNEL } from '../../src/servers/server-changes.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

const WRONG_PASSWORD = 'not-the-password-9f3c';
/** Long enough that only a notification (or a reconnect) can explain a replica seeing a change. */
const LONG_TTL_MS = '600000';
const SHORT_TTL_MS = 1500;
/** Replicas share the key that seals stored secrets, as they must in production. */
const CREDENTIALS_KEY = randomBytes(32).toString('base64');

async function sql<T extends pg.QueryResultRow>(url: string, text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

/** Retries `send` until its status is `status` (a notification takes a moment to travel), at most `ms`. */
async function until(send: () => Promise<request.Response>, status: number, ms = 5000): Promise<request.Response> {
  const deadline = Date.now() + ms;
  for (;;) {
    const res = await send();
    if (res.status === status || Date.now() > deadline) return res;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('target cache across replicas on one PostgreSQL database', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;

  const exec = (app: TestApp, id: string) => app.api.post(`/api/servers/${id}/exec`).send({ command: 'echo ok' });
  const createOn = async (app: TestApp) => (await app.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id as string;
  const listeners = async () =>
    (await sql<{ n: number }>(db.url, 'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_APPLICATION_NAME]))[0].n;

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase('postgres');
    sshd = await startSshd();
    a = await createTestApp({ DATABASE_URL: db.url, SERVER_CACHE_TTL_MS: LONG_TTL_MS, CREDENTIALS_KEY });
    b = await createTestApp({ DATABASE_URL: db.url, SERVER_CACHE_TTL_MS: LONG_TTL_MS, CREDENTIALS_KEY });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('a password changed on A is the one B uses at its next exec: the old one is no longer sent, the new one is', async () => {
    const id = await createOn(a);
    await exec(b, id).expect(200); // B now caches the target and holds a connection authenticated with it
    const before = { accepted: sshd.acceptedAuths(), failed: sshd.failedAuths() };

    await a.api.patch(`/api/servers/${id}`).send({ sshPassword: WRONG_PASSWORD }).expect(200);
    const refused = await until(() => exec(b, id), 502);
    expect(refused.body).toMatchObject(errorBody(502, 'SSH_AUTH_FAILED'));
    expect({ accepted: sshd.acceptedAuths() - before.accepted, failed: sshd.failedAuths() - before.failed }).toEqual({ accepted: 0, failed: 1 });

    await a.api.patch(`/api/servers/${id}`).send({ sshPassword: user.password }).expect(200);
    const accepted = await until(() => exec(b, id), 200);
    expect(accepted.body).toMatchObject({ exitCode: 0, stdout: 'ok\n' });
    // A new login: B left its old connection when it heard of the change, it did not reuse it.
    expect({ accepted: sshd.acceptedAuths() - before.accepted, failed: sshd.failedAuths() - before.failed }).toEqual({ accepted: 1, failed: 1 });
  });

  it('a server deleted on A is a 404 on B, and B lets go of its connection', async () => {
    const id = await createOn(a);
    await exec(b, id).expect(200);
    const usedBy = async (app: TestApp) =>
      ((await app.api.get('/api/server-status/pool/connections').expect(200)).body.connections as { serverIds: string[] }[]).filter((c) =>
        c.serverIds.includes(id),
      ).length;
    expect(await usedBy(b)).toBe(1);
    await a.api.delete(`/api/servers/${id}`).expect(204);
    const res = await until(() => exec(b, id), 404);
    expect(res.body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id } });
    expect(await usedBy(b)).toBe(0);
  });

  it('a replica whose listener connection was killed reconnects and drops what it may have missed', async () => {
    const id = await createOn(a);
    await exec(b, id).expect(200);
    const failed = sshd.failedAuths();
    await sql(db.url, 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [
      LISTENER_APPLICATION_NAME,
    ]);
    // Most likely sent while no replica listens: lost for B.
    await a.api.patch(`/api/servers/${id}`).send({ sshPassword: `${WRONG_PASSWORD}-2` }).expect(200);
    const started = Date.now();
    while ((await listeners()) < 2) {
      if (Date.now() - started > 15_000) throw new Error('the listeners did not come back within 15 s');
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const res = await exec(b, id);
    expect({ status: res.status, body: res.body }).toMatchObject({ status: 502, body: errorBody(502, 'SSH_AUTH_FAILED') });
    expect(sshd.failedAuths() - failed).toBe(1);
  });

  it('a notification it cannot read makes a replica drop every cached target', async () => {
    const id = await createOn(a);
    await exec(b, id).expect(200);
    await sql(db.url, 'DELETE FROM servers WHERE id = $1', [id]); // no notification: B still has the target
    await exec(b, id).expect(200);
    await sql(db.url, 'SELECT pg_notify($1, $2)', [SERVER_CHANGES_CHANNEL, '{"serverId": 42']);
    const res = await until(() => exec(b, id), 404);
    expect(res.body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id } });
  });

  it('a change whose notification never came (made in the database directly) lasts no longer than the TTL', async () => {
    const c = await createTestApp({ DATABASE_URL: db.url, SERVER_CACHE_TTL_MS: String(SHORT_TTL_MS), CREDENTIALS_KEY });
    try {
      const id = await createOn(a);
      await exec(c, id).expect(200);
      await sql(db.url, 'DELETE FROM servers WHERE id = $1', [id]);
      const deleted = Date.now();
      const res = await until(() => exec(c, id), 404, SHORT_TTL_MS + 5000);
      expect(res.body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id } });
      // Loose: the TTL plus room for a busy machine, far below the 10-minute TTL of A and B.
      expect(Date.now() - deleted).toBeLessThan(SHORT_TTL_MS + 5000);
    } finally {
      await c.close();
    }
  });
});

describe('target cache on SQLite (one replica): changes apply at once', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase('sqlite');
    sshd = await startSshd();
    t = await createTestApp({ DATABASE_URL: db.url, SERVER_CACHE_TTL_MS: LONG_TTL_MS });
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('the next exec after a PATCH or DELETE uses the new record, with no wait', async () => {
    const exec = (id: string) => t.api.post(`/api/servers/${id}/exec`).send({ command: 'echo ok' });
    const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id as string;
    await exec(id).expect(200);
    const failed = sshd.failedAuths();
    await t.api.patch(`/api/servers/${id}`).send({ sshPassword: WRONG_PASSWORD }).expect(200);
    expect((await exec(id).expect(502)).body).toMatchObject(errorBody(502, 'SSH_AUTH_FAILED'));
    expect(sshd.failedAuths() - failed).toBe(1);
    await t.api.patch(`/api/servers/${id}`).send({ sshPassword: user.password }).expect(200);
    await exec(id).expect(200);
    await t.api.delete(`/api/servers/${id}`).expect(204);
    expect((await exec(id).expect(404)).body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id } });
  });

  it('reads no row per exec while cached: a row removed behind the service is still served until the TTL', async () => {
    const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id as string;
    await t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' }).expect(200);
    const { default: Database } = await import('better-sqlite3');
    const file = new Database(db.file!);
    try {
      expect(file.prepare('DELETE FROM servers WHERE id = ?').run(id).changes).toBe(1);
    } finally {
      file.close();
    }
    await t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' }).expect(200);
    await t.api.get(`/api/servers/${id}`).expect(404);
  });
});
