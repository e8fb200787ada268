// Operations (issue 10) at their bounds: OPERATION_TIMEOUT_S fails a run and kills it on the host, and a
// shutdown gives running operations the drain bound, then kills them and stores them `interrupted`.
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { collectUntilEnd } from '../support/sse.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeCs2ServerFarm, processesEnd, type FakeCs2Server, type UpdateConfig } from './fake-cs2server.js';
import { act, addServer, events, expectCompleteStream, finished, opsClient, type OpsClient } from './ops-fixtures.js';

describe('operation limits (sqlite)', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let farm: FakeCs2ServerFarm;
  const apps: TestApp[] = [];
  const dbs: TestDatabase[] = [];
  let port = 27800;

  async function app(env: Record<string, string>, existing?: TestDatabase): Promise<{ t: TestApp; api: OpsClient; db: TestDatabase }> {
    const db = existing ?? (await createTestDatabase('sqlite'));
    dbs.push(db);
    const t = await createTestApp({ DATABASE_URL: db.url, ...env });
    apps.push(t);
    return { t, api: await opsClient(t), db };
  }

  /** A server whose update runs for a minute, and the update started on the host. */
  async function longUpdate(api: OpsClient, name: string, extra: Partial<UpdateConfig> = {}): Promise<{ fake: FakeCs2Server; operationId: string; shell: number; helper: number }> {
    const fake = farm.add(name, port++);
    fake.configureUpdate({ steps: 600, intervalS: 0.1, ...extra });
    const { operationId } = await act(api, await addServer(api, sshd, user, fake), 'update');
    return { fake, operationId, ...(await fake.updateRunning()) };
  }


  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.68' });
    farm = new FakeCs2ServerFarm(user.username);
  });
  afterAll(async () => {
    await Promise.all(apps.map((t) => t.close()));
    farm?.cleanup();
    await sshd?.stop();
    await Promise.all(dbs.map((db) => db.drop()));
  });

  it('OPERATION_TIMEOUT_S: the run fails with EXEC_TIMEOUT and no exit code, and is killed on the host', async () => {
    const { api } = await app({ OPERATION_TIMEOUT_S: '2', OPERATION_CANCEL_GRACE_MS: '500' });
    const { operationId, shell, helper } = await longUpdate(api, 'timeout');
    const stream = await events(api, operationId);
    const op = await finished(api, operationId, 10_000);
    expect(op).toMatchObject({ status: 'failed', exitCode: null, error: { code: 'EXEC_TIMEOUT', message: expect.any(String) } });
    await processesEnd([shell, helper]);
    expectCompleteStream(await collectUntilEnd(stream), { status: 'failed', exitCode: null });
  });

  it('cancel of an update that ignores SIGTERM: SIGKILL after OPERATION_CANCEL_GRACE_MS, then cancelled', async () => {
    const { api } = await app({ OPERATION_CANCEL_GRACE_MS: '800' });
    const { fake, operationId, shell, helper } = await longUpdate(api, 'stubborn', { ignoreTerm: true });
    expect(fake.updatePids()).toEqual({ shell, helper });
    const asked = performance.now();
    const res = await api.request('DELETE', `/api/operations/${operationId}`);
    expect(res).toMatchObject({ status: 200, body: { id: operationId, status: 'cancelled' } });
    expect(performance.now() - asked).toBeGreaterThanOrEqual(800); // it waited out the grace: TERM alone did nothing
    await processesEnd([shell, helper]);
  });

  it('shutdown: a running operation gets the drain bound, then is killed on the host and stored interrupted', async () => {
    const { t, api, db } = await app({ SHUTDOWN_GRACE_MS: '300' });
    const { operationId, shell, helper } = await longUpdate(api, 'shutdown');
    const stream = await events(api, operationId);
    apps.splice(apps.indexOf(t), 1);
    const closing = performance.now();
    await t.close();
    // Loose: the drain bound plus a SIGTERM; an update left to run (or to the 5 s SIGKILL grace) takes longer.
    expect(performance.now() - closing).toBeLessThan(4000);
    await processesEnd([shell, helper]);
    const [row] = (await db.rows('operations')).filter((r) => r.id === operationId);
    expect(row).toMatchObject({ status: 'interrupted' });
    const list = await collectUntilEnd(stream);
    expect(list.at(-1)).toMatchObject({ event: 'done', data: { status: 'interrupted', exitCode: null } });

    // The next start on that database serves it as stored.
    const { api: again } = await app({}, db);
    const stored = await finished(again, operationId);
    expect(stored).toMatchObject({ status: 'interrupted', exitCode: null, error: { code: 'POOL_SHUTTING_DOWN', message: expect.any(String) } });
    expectCompleteStream(await collectUntilEnd(await events(again, operationId)), { status: 'interrupted', exitCode: null });
  });
});
