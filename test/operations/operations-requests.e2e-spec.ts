// Operations (issue 10): history, batches on a low-MaxSessions host, the controlScript field, and the
// 400/404/409 answers with their full error bodies.
import { createTestApp, errorBody, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeCs2ServerFarm, type FakeCs2Server } from './fake-cs2server.js';
import {
  act, addServer, events, expectStatus, finished, opsClient, UNKNOWN_ID, UUID, type Operation, type OpsClient, type Started,
} from './ops-fixtures.js';

const validationFailed = (field: string) => ({
  ...errorBody(400, 'VALIDATION_FAILED'),
  details: expect.arrayContaining([{ field, messages: expect.arrayContaining([expect.any(String)]) }]),
});

describe.each(DATABASE_KINDS)('operations API requests (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let tight: SshdHost;
  let db: TestDatabase;
  let farm: FakeCs2ServerFarm;
  let t: TestApp;
  let api: OpsClient;
  let port = kind === 'sqlite' ? 27500 : 27600;

  async function server(name: string, host = sshd): Promise<{ fake: FakeCs2Server; id: string }> {
    const fake = farm.add(`${name}-${kind}`, port++);
    return { fake, id: await addServer(api, host, user, fake) };
  }

  beforeAll(async () => {
    user = loadTestUser();
    const address = kind === 'sqlite' ? ['127.0.0.63', '127.0.0.64'] : ['127.0.0.65', '127.0.0.66'];
    [sshd, tight, db] = await Promise.all([startSshd({ address: address[0] }), startSshd({ address: address[1], maxSessions: 2 }), createTestDatabase(kind)]);
    farm = new FakeCs2ServerFarm(user.username);
    t = await createTestApp({ DATABASE_URL: db.url });
    api = await opsClient(t);
  });
  afterAll(async () => {
    await t?.close();
    farm?.cleanup();
    await Promise.all([sshd?.stop(), tight?.stop()]);
    await db?.drop();
  });

  it('history: newest first, paginated, with the total', async () => {
    const { fake, id } = await server('history');
    fake.configureUpdate({ steps: 1, intervalS: 0.01 });
    const ids: string[] = [];
    for (const action of ['update', 'validate', 'start', 'stop'] as const) {
      const { operationId } = await act(api, id, action);
      await finished(api, operationId);
      ids.push(operationId);
    }
    const page = (query: string) => expectStatus<{ items: Operation[]; total: number; limit: number; offset: number }>(api, 200, 'GET', `/api/servers/${id}/operations${query}`);
    const all = await page('');
    expect({ ...all, items: all.items.map((o) => [o.id, o.action, o.status]) }).toEqual({
      items: [[ids[3], 'stop', 'succeeded'], [ids[2], 'start', 'succeeded'], [ids[1], 'validate', 'succeeded'], [ids[0], 'update', 'succeeded']],
      total: 4, limit: 20, offset: 0,
    });
    expect(all.items[0]).toEqual(await expectStatus(api, 200, 'GET', `/api/operations/${ids[3]}`));
    const second = await page('?limit=2&offset=2');
    expect({ ...second, items: second.items.map((o) => o.id) }).toEqual({ items: [ids[1], ids[0]], total: 4, limit: 2, offset: 2 });
    expect((await page('?limit=3&offset=4')).items).toEqual([]);
    for (const query of ['?limit=0', '?limit=101', '?offset=-1', '?limit=two']) {
      expect((await api.request('GET', `/api/servers/${id}/operations${query}`)).body).toEqual(validationFailed(query.slice(1).split('=')[0]));
    }
  });

  it('a batch of 10 servers on a MaxSessions 2 host: 202 in serverIds order, every operation succeeds', async () => {
    const servers = await Promise.all(Array.from({ length: 10 }, (_, i) => server(`batch${i}`, tight)));
    servers.forEach(({ fake }) => fake.configureUpdate({ steps: 3, intervalS: 0.1 }));
    const serverIds = servers.map((s) => s.id);
    const { operations } = await expectStatus<{ operations: Started[] }>(api, 202, 'POST', '/api/operations/batch', { serverIds, action: 'update' });
    expect(operations).toEqual(serverIds.map((serverId) => ({ operationId: expect.stringMatching(UUID), serverId, action: 'update', status: 'running' })));
    const results = await Promise.all(operations.map((o) => finished(api, o.operationId, 30_000)));
    expect(results.map((r) => [r.status, r.exitCode, r.error])).toEqual(results.map(() => ['succeeded', 0, null]));
  });

  it('a batch is all or nothing: a busy server is a 409 naming it, an unknown one a 404, and neither starts the others', async () => {
    const [busy, idle] = [await server('busy'), await server('idle')];
    busy.fake.configureUpdate({ steps: 100, intervalS: 0.1 });
    const running = await act(api, busy.id, 'update');
    const conflict = await api.request('POST', '/api/operations/batch', { serverIds: [idle.id, busy.id], action: 'update' });
    expect(conflict).toEqual({ status: 409, body: { ...errorBody(409, 'OPERATION_IN_PROGRESS'), details: expect.objectContaining({ serverIds: [busy.id] }) } });
    const other = crypto.randomUUID();
    const unknown = await api.request('POST', '/api/operations/batch', { serverIds: [UNKNOWN_ID, idle.id, other], action: 'start' });
    expect(unknown).toEqual({ status: 404, body: { ...errorBody(404, 'SERVER_NOT_FOUND'), details: { ids: [UNKNOWN_ID, other] } } });
    const one = await api.request('POST', '/api/operations/batch', { serverIds: [idle.id, UNKNOWN_ID], action: 'start' });
    expect(one).toEqual({ status: 404, body: { ...errorBody(404, 'SERVER_NOT_FOUND'), details: { ids: [UNKNOWN_ID] } } });
    expect(await expectStatus(api, 200, 'GET', `/api/servers/${idle.id}/operations`)).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
    await api.request('DELETE', `/api/operations/${running.operationId}`);
  });

  it('controlScript: default /home/<sshUser>/cs2server, set and reset with null; unsafe paths refused', async () => {
    const created = await expectStatus<Record<string, unknown>>(api, 201, 'POST', '/api/servers', serverBody({ sshUser: 'cs2' }));
    expect(created.controlScript).toBe('/home/cs2/cs2server');
    const set = await expectStatus<Record<string, unknown>>(api, 200, 'PATCH', `/api/servers/${created.id}`, { controlScript: '/srv/cs2/eu-1/cs2server' });
    expect(set.controlScript).toBe('/srv/cs2/eu-1/cs2server');
    expect((await expectStatus<Record<string, unknown>>(api, 200, 'GET', `/api/servers/${created.id}`)).controlScript).toBe('/srv/cs2/eu-1/cs2server');
    const reset = await expectStatus<Record<string, unknown>>(api, 200, 'PATCH', `/api/servers/${created.id}`, { controlScript: null });
    expect(reset.controlScript).toBe('/home/cs2/cs2server');
    for (const controlScript of ['/home/cs2/my server/cs2server', '/home/cs2/cs2server;reboot', 'cs2server', '/home/cs2/$(id)', `/${'a'.repeat(1024)}`, 42]) {
      expect(await api.request('POST', '/api/servers', serverBody({ controlScript }))).toEqual({ status: 400, body: validationFailed('controlScript') });
      expect(await api.request('PATCH', `/api/servers/${created.id}`, { controlScript })).toEqual({ status: 400, body: validationFailed('controlScript') });
    }
  });

  it('an action on a host without the default script fails with the shell\'s exit code, not an error', async () => {
    const fake = farm.add(`missing-${kind}`, port++);
    const id = await addServer(api, sshd, user, fake, { controlScript: undefined });
    const { operationId } = await act(api, id, 'start');
    const op = await finished(api, operationId);
    expect(op).toMatchObject({ status: 'failed', exitCode: 127, error: null });
    expect(op.outputTail).toContain(`/home/${user.username}/cs2server`);
  });

  it('answers 400, 401, 404 with the full error body', async () => {
    const { id } = await server('errors');
    const cases: [string, string, unknown, number, Record<string, unknown>][] = [
      ['POST', `/api/servers/${id}/actions/reboot`, undefined, 400, validationFailed('action')],
      ['POST', `/api/servers/${UNKNOWN_ID}/actions/start`, undefined, 404, { ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id: UNKNOWN_ID } }],
      ['POST', '/api/servers/not-a-uuid/actions/start', undefined, 400, validationFailed('id')],
      ['GET', `/api/operations/${UNKNOWN_ID}`, undefined, 404, expect.objectContaining(errorBody(404, 'OPERATION_NOT_FOUND'))],
      ['GET', '/api/operations/not-a-uuid', undefined, 400, validationFailed('id')],
      ['DELETE', `/api/operations/${UNKNOWN_ID}`, undefined, 404, expect.objectContaining(errorBody(404, 'OPERATION_NOT_FOUND'))],
      ['DELETE', '/api/operations/123', undefined, 400, validationFailed('id')],
      ['GET', `/api/servers/${UNKNOWN_ID}/operations`, undefined, 404, { ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id: UNKNOWN_ID } }],
      ['POST', '/api/operations/batch', { serverIds: [id, id], action: 'update' }, 400, validationFailed('serverIds')],
      ['POST', '/api/operations/batch', { serverIds: [], action: 'update' }, 400, validationFailed('serverIds')],
      ['POST', '/api/operations/batch', { serverIds: ['nope'], action: 'update' }, 400, validationFailed('serverIds')],
      ['POST', '/api/operations/batch', { serverIds: Array.from({ length: 101 }, () => crypto.randomUUID()), action: 'update' }, 400, validationFailed('serverIds')],
      ['POST', '/api/operations/batch', { serverIds: [id], action: 'reboot' }, 400, validationFailed('action')],
      ['POST', '/api/operations/batch', { serverIds: [id], action: 'update', force: true }, 400, validationFailed('force')],
      ['GET', `/api/operations/${UNKNOWN_ID}/events`, undefined, 404, expect.objectContaining(errorBody(404, 'OPERATION_NOT_FOUND'))],
    ];
    for (const [method, path, body, status, expected] of cases) {
      expect({ request: `${method} ${path}`, ...(await api.request(method, path, body)) }).toEqual({ request: `${method} ${path}`, status, body: expected });
    }
    const notFound = await events(api, UNKNOWN_ID);
    expect([notFound.status, notFound.headers['content-type'], await notFound.body()]).toEqual([
      404, expect.stringContaining('application/json'), expect.objectContaining(errorBody(404, 'OPERATION_NOT_FOUND')),
    ]);
    const badId = await events(api, 'not-a-uuid');
    expect([badId.status, await badId.body()]).toEqual([400, validationFailed('id')]);
    const badResume = await events(api, UNKNOWN_ID, 'abc');
    expect([badResume.status, await badResume.body()]).toEqual([400, validationFailed('Last-Event-ID')]);
    const anonymous = await fetch(`${api.base}/api/servers/${id}/actions/start`, { method: 'POST' });
    expect([anonymous.status, await anonymous.json()]).toEqual([401, errorBody(401, 'UNAUTHORIZED')]);
    expect(await expectStatus(api, 200, 'GET', `/api/servers/${id}/operations`)).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
  });
});
