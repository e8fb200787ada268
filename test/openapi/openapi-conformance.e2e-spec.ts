// What the API really answers, checked against what its OpenAPI document says: every status is
// documented for its route, every body matches the documented schema (no undocumented key), and
// every error code is one the route lists for that status. Real sshd behind the SSH routes.
import { randomUUID } from 'node:crypto';
import type { Response } from 'supertest';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { eventually } from '../support/eventually.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeControlScripts } from '../transport/fake-control-scripts.js';
import { departures, documentedCodes, mediaTypes, type OpenAPIObject, operationOf, operations, responseSchema } from './openapi-support.js';

describe('the API answers as its OpenAPI document says', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let t: TestApp;
  let doc: OpenAPIObject;
  const seen = new Set<string>();

  /** Checks one answer against the document for `route` ("POST /api/servers/{id}/exec") and returns it. */
  const answered = (route: string, res: Response): Response => {
    const problems: string[] = [];
    const documented = operationOf(doc, route).responses[String(res.status)];
    if (!documented) problems.push(`${res.status} is not documented`);
    const schema = documented && responseSchema(doc, route, res.status);
    if (schema) problems.push(...departures(doc, schema, res.body));
    if (documented && res.status >= 400 && !documentedCodes(doc, route, res.status).includes(res.body.code)) {
      problems.push(`${res.body.code} is not listed for ${res.status}`);
    }
    expect({ route, status: res.status, problems }).toEqual({ route, status: res.status, problems: [] });
    seen.add(`${route} ${res.status}`);
    return res;
  };
  const createServer = async (overrides: Record<string, unknown> = {}): Promise<string> =>
    answered('POST /api/servers', await t.api.post('/api/servers').send(sshServerBody(sshd, user, overrides)).expect(201)).body.id;
  const scripts = new FakeControlScripts();
  const GET_OPERATION = 'GET /api/operations/{id}';
  /** Polls the operation (each answer checked) until it ended; returns its status. */
  const ended = async (operationId: string): Promise<string> => {
    for (let deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const { status } = answered(GET_OPERATION, await t.api.get(`/api/operations/${operationId}`).expect(200)).body as { status: string };
      if (status !== 'running') return status;
    }
    throw new Error(`operation ${operationId} still running after 30 s`);
  };

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd();
    const db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url, SSH_READY_TIMEOUT_MS: '3000' });
    doc = (await t.api.get('/api/docs-json').expect(200)).body as OpenAPIObject;
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
  });

  it('servers: CRUD and exec', async () => {
    const id = await createServer({ description: null });
    answered('GET /api/servers', await t.api.get('/api/servers').expect(200));
    answered('GET /api/servers/{id}', await t.api.get(`/api/servers/${id}`).expect(200));
    answered('PATCH /api/servers/{id}', await t.api.patch(`/api/servers/${id}`).send({ description: 'eu west' }).expect(200));
    const ran = answered('POST /api/servers/{id}/exec', await t.api.post(`/api/servers/${id}/exec`).send({ command: 'echo hi; exit 3' }).expect(200));
    expect(ran.body).toMatchObject({ exitCode: 3, stdout: 'hi\n' });
    answered('DELETE /api/servers/{id}', await t.api.delete(`/api/servers/${id}`).expect(204));
  });

  it('status and pool: every route with a live pooled connection', async () => {
    const id = await createServer();
    await t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' }).expect(200);
    answered('GET /api/server-status/pool/stats', await t.api.get('/api/server-status/pool/stats').expect(200));
    const listed = answered('GET /api/server-status/pool/connections', await t.api.get('/api/server-status/pool/connections').expect(200));
    expect(listed.body.connections.length).toBeGreaterThan(0);
    answered('GET /api/server-status/{serverId}/connection', await t.api.get(`/api/server-status/${id}/connection`).expect(200));
    answered('POST /api/server-status/{serverId}/reconnect', await t.api.post(`/api/server-status/${id}/reconnect`).expect(200));
    answered('GET /api/server-status', await t.api.get('/api/server-status').expect(200));
    answered('GET /api/server-status/{serverId}', await t.api.get(`/api/server-status/${id}`).expect(200));
    answered('DELETE /api/server-status/pool/connections/{serverId}', await t.api.delete(`/api/server-status/pool/connections/${id}`).expect(200));
    answered('POST /api/server-status/pool/cleanup', await t.api.post('/api/server-status/pool/cleanup').expect(200));
    answered('POST /api/server-status/pool/close-all', await t.api.post('/api/server-status/pool/close-all').send({}).expect(200));
  });

  it('request errors: token, ids, URL encoding, bodies, names', async () => {
    const id = await createServer();
    answered('GET /api/servers', await t.http.get('/api/servers').expect(401));
    answered('GET /api/servers/{id}', await t.api.get('/api/servers/not-a-uuid').expect(400));
    answered('GET /api/servers/{id}', await t.api.get('/api/servers/%E0%A4%A').expect(400));
    answered('GET /api/servers/{id}', await t.api.get(`/api/servers/${randomUUID()}`).expect(404));
    answered('POST /api/servers', await t.api.post('/api/servers').send({ name: 'x' }).expect(400));
    answered('POST /api/servers', await t.api.post('/api/servers').set('Content-Type', 'application/json').send('{"name":').expect(400));
    answered('POST /api/servers', await t.api.post('/api/servers').set('Content-Type', 'text/plain').send('name=x').expect(415));
    answered('POST /api/servers', await t.api.post('/api/servers').send({ description: 'x'.repeat(200 * 1024) }).expect(413));
    const name = (await t.api.get(`/api/servers/${id}`).expect(200)).body.name as string;
    answered('PATCH /api/servers/{id}', await t.api.patch(`/api/servers/${await createServer()}`).send({ name }).expect(409));
    answered('POST /api/server-status/pool/cleanup', await t.api.post('/api/server-status/pool/cleanup').send({ force: true }).expect(400));
  });

  it('SSH errors: unreachable host, command timeout', async () => {
    const closed = await createServer({ host: '127.0.0.1', sshPort: await freePort() });
    const refused = answered('POST /api/servers/{id}/exec', await t.api.post(`/api/servers/${closed}/exec`).send({ command: 'true' }).expect(502));
    expect(refused.body.code).toBe('SSH_UNREACHABLE');
    answered('POST /api/server-status/{serverId}/reconnect', await t.api.post(`/api/server-status/${closed}/reconnect`).expect(502));
    const slow = await createServer();
    answered('POST /api/servers/{id}/exec', await t.api.post(`/api/servers/${slow}/exec`).send({ command: 'sleep 5', timeoutMs: 300 }).expect(504));
  });

  it('operations: actions, events, history, batch and cancel', async () => {
    const [quick, other] = [await createServer({ controlScript: scripts.quick() }), await createServer({ controlScript: scripts.quick() })];
    const ACTION = 'POST /api/servers/{id}/actions/{action}';
    const started = answered(ACTION, await t.api.post(`/api/servers/${quick}/actions/update`).expect(202)).body.operationId as string;
    expect(await ended(started)).toBe('succeeded');
    const events = await t.api.get(`/api/operations/${started}/events`).expect(200);
    answered('GET /api/operations/{id}/events', events);
    expect(mediaTypes(doc, 'GET /api/operations/{id}/events', 200)).toEqual([events.headers['content-type']]);
    expect(events.text).toMatch(/^event: done\nid: \d+\ndata: {"status":"succeeded","exitCode":0}$/m);
    answered('GET /api/servers/{id}/operations', await t.api.get(`/api/servers/${quick}/operations?limit=5`).expect(200));
    const batch = answered('POST /api/operations/batch', await t.api.post('/api/operations/batch').send({ serverIds: [quick, other], action: 'validate' }).expect(202));
    for (const { operationId } of batch.body.operations as { operationId: string }[]) expect(await ended(operationId)).toBe('succeeded');

    const gate = scripts.gated();
    const busy = await createServer({ controlScript: gate.path });
    const running = answered(ACTION, await t.api.post(`/api/servers/${busy}/actions/start`).expect(202)).body.operationId as string;
    answered(GET_OPERATION, await t.api.get(`/api/operations/${running}`).expect(200));
    answered(ACTION, await t.api.post(`/api/servers/${busy}/actions/stop`).expect(409));
    answered('POST /api/operations/batch', await t.api.post('/api/operations/batch').send({ serverIds: [quick, busy], action: 'stop' }).expect(409));
    answered('DELETE /api/servers/{id}', await t.api.delete(`/api/servers/${busy}`).expect(409));
    await eventually('the control script to run', () => gate.running());
    const cancelled = answered('DELETE /api/operations/{id}', await t.api.delete(`/api/operations/${running}`).expect(200));
    expect(cancelled.body).toMatchObject({ id: running, status: 'cancelled' });
    answered('DELETE /api/operations/{id}', await t.api.delete(`/api/operations/${running}`).expect(409));
  });

  it('operations: request errors', async () => {
    const id = await createServer({ controlScript: scripts.quick() });
    const unknown = randomUUID();
    answered('POST /api/servers/{id}/actions/{action}', await t.api.post(`/api/servers/${id}/actions/explode`).expect(400));
    answered('POST /api/servers/{id}/actions/{action}', await t.api.post(`/api/servers/${id}/actions/update`).send({ now: true }).expect(400));
    answered('POST /api/servers/{id}/actions/{action}', await t.api.post(`/api/servers/${unknown}/actions/update`).expect(404));
    answered('POST /api/servers/{id}/actions/{action}', await t.http.post(`/api/servers/${id}/actions/update`).expect(401));
    for (const route of ['GET /api/operations/{id}', 'GET /api/operations/{id}/events', 'DELETE /api/operations/{id}']) {
      const method = route.startsWith('GET') ? 'get' : 'delete';
      const path = route.split(' ')[1];
      answered(route, await t.api[method](path.replace('{id}', unknown)).expect(404));
      answered(route, await t.api[method](path.replace('{id}', 'not-a-uuid')).expect(400));
    }
    answered('GET /api/operations/{id}/events', await t.api.get(`/api/operations/${unknown}/events`).set('Last-Event-ID', 'x').expect(400));
    answered('GET /api/servers/{id}/operations', await t.api.get(`/api/servers/${unknown}/operations`).expect(404));
    answered('GET /api/servers/{id}/operations', await t.api.get(`/api/servers/${id}/operations?limit=0&offset=-1`).expect(400));
    answered('POST /api/operations/batch', await t.api.post('/api/operations/batch').send({ serverIds: [unknown, randomUUID()], action: 'update' }).expect(404));
    answered('POST /api/operations/batch', await t.api.post('/api/operations/batch').send({ serverIds: [], action: 'update' }).expect(400));
  });

  it('idempotency keys: replays, a key reused, a bad key', async () => {
    const EXEC = 'POST /api/servers/{id}/exec';
    const id = await createServer();
    const key: string = randomUUID();
    const run = (command: string, sent = key) => t.api.post(`/api/servers/${id}/exec`).set('Idempotency-Key', sent).send({ command });
    answered(EXEC, await run('echo once').expect(200));
    const replay = answered(EXEC, await run('echo once').expect(200));
    expect(Object.keys((operationOf(doc, EXEC).responses['200'] as { headers?: object }).headers ?? {})).toEqual(['Idempotent-Replayed']);
    expect(replay.headers['idempotent-replayed']).toBe('true');
    answered(EXEC, await run('echo other').expect(422));
    answered(EXEC, await run('echo once', 'bad key').expect(400));
    const ACTION = 'POST /api/servers/{id}/actions/{action}';
    const quick = await createServer({ controlScript: scripts.quick() });
    const actionKey = randomUUID();
    answered(ACTION, await t.api.post(`/api/servers/${quick}/actions/validate`).set('Idempotency-Key', actionKey).expect(202));
    answered(ACTION, await t.api.post(`/api/servers/${quick}/actions/validate`).set('Idempotency-Key', actionKey).expect(202));
    answered(ACTION, await t.api.post(`/api/servers/${quick}/actions/start`).set('Idempotency-Key', actionKey).expect(422));
  });

  it('health and metrics, then readiness while shutting down', async () => {
    answered('GET /health/live', await t.http.get('/health/live').expect(200));
    answered('GET /health/ready', await t.http.get('/health/ready').expect(200));
    const scrape = answered('GET /metrics', await t.http.get('/metrics').expect(200));
    expect(mediaTypes(doc, 'GET /metrics', 200)).toEqual([scrape.headers['content-type']]);
    await t.app.get(SshPoolService).shutdown();
    answered('GET /health/ready', await t.http.get('/health/ready').expect(503));
  });

  it('exercised the documented success answer of every route', () => {
    const successes = operations(doc).map(({ route, operation }) => `${route} ${Object.keys(operation.responses).find((s) => s.startsWith('2'))}`);
    expect(successes.filter((s) => !seen.has(s))).toEqual([]);
  });
});
