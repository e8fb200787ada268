// Operations and the pool's own lifecycle: recycling and idle cleanup never cut a running operation,
// and a service that is stopped (SIGTERM) gives it the drain bound, stops it on the host and
// stores it `interrupted` before it exits.
import { existsSync } from 'node:fs';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { DataSource } from 'typeorm';
import { OperationEntity, runningOperation } from '../../src/operations/operation.entity.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { createTestApp, serverBody, TEST_TOKEN, type TestApp } from '../support/app.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { openSse } from '../support/sse.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { sleepingScript, startedPid, until } from './ops-fixtures.js';
import { eventually } from '../support/eventually.js';
import { isAlive } from '../support/proc.js';
import { ServiceProcess } from '../support/service-process.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

interface Operation {
  status: string;
  exitCode: number | null;
  outputTail: string;
  error: { code: string } | null;
}

/** An in-process app on its own SQLite database for the enclosing describe; `app()` is it. */
function appPerDescribe(env: Record<string, string>): () => TestApp {
  let db: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    t = await createTestApp({ DATABASE_URL: db.url, ...env });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });
  return () => t;
}

describe('operations and the pool lifecycle', () => {
  let user: TestUser;
  let sshd: SshdHost;

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd();
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  describe('recycling and idle cleanup', () => {
    const app = appPerDescribe({ POOL_MAX_LIFETIME_S: '1', POOL_IDLE_TIMEOUT_S: '1' });

    const scrape = async () => parsePrometheusText((await app().http.get('/metrics').expect(200)).text);

    it('never cut a running operation: its connection retires after it (and /metrics counts it)', async () => {
      const t = app();
      const disconnects = sshd.disconnects();
      const script = sleepingScript(3);
      const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript: script.path })).expect(201)).body.id;
      const { operationId } = (await t.api.post(`/api/servers/${id}/actions/update`).expect(202)).body;
      await eventually('the update to start on the host', () => existsSync(script.pidFile), 5000);
      expect(sampleValue(await scrape(), 'cs2_ssh_pool_operations_running')).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 1200));
      // Past both the lifetime and the idle timeout: the tick retires the connection, the operation keeps it.
      await t.app.get(SshPoolService).cleanup();
      // Nor does deleting its server: the operation would lose its record while it runs.
      const refused = await t.api.delete(`/api/servers/${id}`).expect(409);
      expect(refused.body).toMatchObject({ code: 'OPERATION_IN_PROGRESS', details: { serverId: id, operationId } });
      const connections = (await t.api.get('/api/server-status/pool/connections').expect(200)).body.connections;
      expect(connections).toEqual([expect.objectContaining({ retiring: true, channelsInUse: 1 })]);
      let operation: Operation | undefined;
      await until('the update to end', async () => {
        operation = (await t.api.get(`/api/operations/${operationId}`)).body as Operation;
        return operation.status !== 'running';
      }, 10_000);
      expect(operation).toMatchObject({ status: 'succeeded', exitCode: 0, outputTail: 'begin update\nend update' });
      await eventually('the retired connection to close once the operation ended', () => t.app.get(SshPoolService).getConnections().length === 0, 5000);
      // sshd saw exactly that connection end (its log may trail the pool by a moment).
      await sshd.waitFor(() => sshd.disconnects() >= disconnects + 1);
      expect(sshd.disconnects() - disconnects).toBe(1);
      const metrics = await scrape();
      expect(sampleValue(metrics, 'cs2_ssh_pool_operations_running')).toBe(0);
      expect(sampleValue(metrics, 'cs2_ssh_pool_operation_duration_seconds_count', { action: 'update', status: 'succeeded' })).toBe(1);
      expect(sampleValue(metrics, 'cs2_ssh_pool_operation_duration_seconds_sum', { action: 'update', status: 'succeeded' })).toBeGreaterThanOrEqual(3);
      await t.api.delete(`/api/servers/${id}`).expect(204);
      await t.api.get(`/api/operations/${operationId}`).expect(404);
    });
  });

  describe('an operation another replica ended', () => {
    const app = appPerDescribe({ OPERATION_CANCEL_GRACE_MS: '1000' });

    it('is stopped on the host at the next lease check, even when it writes nothing', async () => {
      const t = app();
      const script = sleepingScript(60);
      const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript: script.path })).expect(201)).body.id;
      const { operationId } = (await t.api.post(`/api/servers/${id}/actions/update`).expect(202)).body;
      const remotePid = await startedPid(script.pidFile);
      await new Promise((resolve) => setTimeout(resolve, 200));
      // What another replica does when this one's lease ran out (it could not reach the database).
      await t.app.get(DataSource).getRepository(OperationEntity).update({ id: operationId }, { status: 'interrupted', finishedAt: new Date() });
      await t.app.get(OperationsService).tick();
      await eventually('the quiet update to be stopped on the host', () => !isAlive(remotePid), 5000);
      expect((await t.api.get(`/api/operations/${operationId}`).expect(200)).body).toMatchObject({ status: 'interrupted' });
    });
  });

  describe('cancel of a process group that ignores SIGTERM', () => {
    const app = appPerDescribe({ OPERATION_CANCEL_GRACE_MS: '12000' });

    it('answers 202 with the operation still running after its wait, and SIGKILL ends it after the grace', async () => {
      const t = app();
      // An ignored signal stays ignored across exec: the sleep ignores SIGTERM too.
      const script = sleepingScript(60, "trap '' TERM\n");
      const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript: script.path })).expect(201)).body.id;
      const { operationId } = (await t.api.post(`/api/servers/${id}/actions/validate`).expect(202)).body;
      const remotePid = await startedPid(script.pidFile);
      const accepted = await t.api.delete(`/api/operations/${operationId}`).expect(202);
      expect(accepted.body).toMatchObject({ id: operationId, status: 'running' });
      expect(isAlive(remotePid)).toBe(true);
      await until('the cancel to end it', async () => (await t.api.get(`/api/operations/${operationId}`)).body.status !== 'running', 10_000);
      expect((await t.api.get(`/api/operations/${operationId}`)).body).toMatchObject({ status: 'cancelled', exitCode: null });
      await eventually('the remote process to be gone', () => !isAlive(remotePid), 5000);
    }, 40_000);
  });

  it('keeps renewing the lease of an operation while shutdown drains it, so no other replica takes the server meanwhile', async () => {
    const db = await createTestDatabase('sqlite');
    const leaseMs = 1000;
    const t = await createTestApp({ DATABASE_URL: db.url, OPERATION_LEASE_MS: String(leaseMs), SHUTDOWN_GRACE_MS: '6000' });
    try {
      const script = sleepingScript(60);
      const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript: script.path })).expect(201)).body.id;
      const { operationId } = (await t.api.post(`/api/servers/${id}/actions/update`).expect(202)).body;
      await startedPid(script.pidFile);
      const operations = t.app.get(DataSource).getRepository(OperationEntity);
      const drainStartedAt = Date.now();
      const closed = t.close();
      // A lease set before the drain runs out by drainStartedAt + leaseMs; one that reaches a renewal period
      // past that was renewed at least twice during the drain (renewals come every third of the lease).
      let draining: OperationEntity | undefined;
      await until('the lease to be renewed during the drain, or the operation to end', async () => {
        draining = await operations.findOneByOrFail({ id: operationId });
        return draining.status !== 'running' || draining.leaseExpiresAt.getTime() > drainStartedAt + leaseMs + leaseMs / 3;
      }, 5000);
      // Still its replica's and running: no other replica could have taken the server meanwhile.
      expect(draining).toMatchObject({ status: 'running' });
      await closed;
      expect(await db.rows('operations')).toEqual([expect.objectContaining({ id: operationId, status: 'interrupted' })]);
    } finally {
      await t.close().catch(() => undefined);
      await db.drop();
    }
  });

  it('shutdown closes the event streams it serves: a follower of another replica’s operation is ended, not held', async () => {
    const db = await createTestDatabase('sqlite');
    const t = await createTestApp({ DATABASE_URL: db.url });
    try {
      await t.app.listen(0, '127.0.0.1');
      const { port } = t.app.getHttpServer().address() as AddressInfo;
      const server = (await t.api.post('/api/servers').send(serverBody()).expect(201)).body.id as string;
      // Running elsewhere: a live lease held by another replica.
      const operationId = randomUUID();
      const elsewhere = { ownerId: randomUUID(), leaseExpiresAt: new Date(Date.now() + 3600_000), startedAt: new Date() };
      await t.app.get(DataSource).getRepository(OperationEntity).insert(runningOperation({ id: operationId, serverId: server, action: 'update', ...elsewhere }));
      const follower = await openSse(`http://127.0.0.1:${port}/api/operations/${operationId}/events`, { token: TEST_TOKEN });
      expect(follower.status).toBe(200);
      const closing = Date.now();
      await t.close();
      expect(Date.now() - closing).toBeLessThan(5000);
      expect(await follower.next(2000)).toBeUndefined();
      expect(follower.ended).toBe(true);
    } finally {
      await t.close().catch(() => undefined);
      await db.drop();
    }
  });

  it('SIGTERM: the operation gets the drain bound, is killed on the host (even one that ignores SIGTERM) and stored interrupted; the service exits 0', async () => {
    const db = await createTestDatabase('postgres');
    const script = sleepingScript(60, "trap '' TERM\n");
    const service = await ServiceProcess.start({ DATABASE_URL: db.url, SHUTDOWN_GRACE_MS: '1500' });
    try {
      const server = await service.api<{ id: string }>('POST', '/api/servers', sshServerBody(sshd, user, { controlScript: script.path }));
      const { operationId } = await service.api<{ operationId: string }>('POST', `/api/servers/${server.id}/actions/update`);
      const remotePid = await startedPid(script.pidFile);
      expect(isAlive(remotePid)).toBe(true);
      const stoppedAt = Date.now();
      expect(await service.stop()).toBe(0);
      const took = Date.now() - stoppedAt;
      expect(took).toBeGreaterThanOrEqual(1400);
      expect(took).toBeLessThan(10_000);
      await eventually('the remote update to be stopped', () => !isAlive(remotePid), 5000);
      const [row] = (await db.rows('operations')).filter((r) => r.id === operationId);
      expect(row).toMatchObject({ status: 'interrupted', error_code: 'POOL_SHUTTING_DOWN', exit_code: null });
      const events = (await db.rows('operation_events')).filter((e) => e.operation_id === operationId).sort((a, b) => Number(a.seq) - Number(b.seq));
      expect(events.map((e) => [Number(e.seq), e.type])).toEqual([[1, 'output'], [2, 'done']]);
      expect(JSON.parse(String(events[1].data))).toEqual({ status: 'interrupted', exitCode: null });
    } finally {
      await service.stop();
      await db.drop();
    }
  });
});
