// Operations that always end, and end only as they should: a resync or a forged notification never
// cancels one; output with any bytes is stored; an end that happens while the database is away is
// stored once it is back; and a command left on the host by a killed service never overlaps the
// server's next operation.
import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { LISTENER_APPLICATION_NAME } from '../../src/database/pg-notify-listener.js';
import { OPERATION_SIGNALS_CHANNEL } from '../../src/operations/operation-signals.js';
import { OperationStore } from '../../src/operations/operation-store.js';
import { OperationEntity, runningOperation } from '../../src/operations/operation.entity.js';
import { OperationsService } from '../../src/operations/operations.service.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type DatabaseKind, type TestDatabase, withClient } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { isAlive } from '../support/proc.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { remoteProcesses } from '../support/remote-processes.js';
import { ServiceProcess } from '../support/service-process.js';
import { collectUntilEnd } from '../support/sse.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { startCuttableProxy, throughProxy } from './cuttable-proxy.js';
import { events, expectCompleteStream, expectStatus, finished, getOperation, linesByStream, opsClient, sleepingScript, startedPid, until, type OpsClient } from './ops-fixtures.js';

const CREDENTIALS_KEY = randomBytes(32).toString('base64');

let user: TestUser;
let sshd: SshdHost;

beforeAll(async () => {
  user = loadTestUser();
  sshd = await startSshd();
});
afterAll(async () => {
  await sshd?.stop();
});

async function withApp(kind: DatabaseKind, env: Record<string, string>, test: (t: TestApp, api: OpsClient, db: TestDatabase) => Promise<void>): Promise<void> {
  const db = await createTestDatabase(kind);
  const t = await createTestApp({ DATABASE_URL: db.url, ...env });
  try {
    await test(t, await opsClient(t), db);
  } finally {
    await t.close();
    await db.drop();
  }
}

async function startUpdate(api: OpsClient, script: { path: string }): Promise<{ serverId: string; operationId: string }> {
  const serverId = (await expectStatus<{ id: string }>(api, 201, 'POST', '/api/servers', sshServerBody(sshd, user, { controlScript: script.path }))).id;
  const { operationId } = await expectStatus<{ operationId: string }>(api, 202, 'POST', `/api/servers/${serverId}/actions/update`);
  return { serverId, operationId };
}

/** The pids of the app's LISTEN sessions (server changes, operation signals). */
const listeners = async (client: pg.Client): Promise<number[]> =>
  (await client.query('SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()', [LISTENER_APPLICATION_NAME])).rows.map((r: { pid: number }) => r.pid);

describe('a running operation ends only as it should (PostgreSQL notifications)', () => {
  const triggers: [string, (client: pg.Client, operationId: string) => Promise<void>][] = [
    ['an unreadable NOTIFY on the channel (a resync)', async (client) => void (await client.query(`NOTIFY ${OPERATION_SIGNALS_CHANNEL}, 'x'`))],
    [
      'a forged cancel NOTIFY naming it',
      async (client, operationId) => void (await client.query('SELECT pg_notify($1, $2)', [OPERATION_SIGNALS_CHANNEL, JSON.stringify({ kind: 'cancel', operationId, origin: 'forged' })])),
    ],
    [
      'the listener sessions terminated (a resync once they reconnect)',
      async (client) => {
        const before = await listeners(client);
        await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE pid = ANY($1)', [before]);
        await until('the listeners to reconnect', async () => (await listeners(client)).filter((pid) => !before.includes(pid)).length === before.length, 10_000);
      },
    ],
  ];

  it.each(triggers)('%s leaves it running; it then succeeds', async (_, trigger) => {
    await withApp('postgres', { CREDENTIALS_KEY }, async (_t, api, db) => {
      const script = sleepingScript(4);
      const { operationId } = await startUpdate(api, script);
      await startedPid(script.pidFile);
      await withClient(db.url, (client) => trigger(client, operationId));
      await new Promise((resolve) => setTimeout(resolve, 300)); // a cancel would have reached the host by now
      expect(await getOperation(api, operationId)).toMatchObject({ status: 'running' });
      expect(await finished(api, operationId)).toMatchObject({ status: 'succeeded', exitCode: 0, outputTail: 'begin update\nend update' });
    });
  });
});

describe('cancel and the lease (SQLite)', () => {
  it('a cancel recorded on the row whose notification was lost is acted on at the next lease check', async () => {
    await withApp('sqlite', { OPERATION_CANCEL_GRACE_MS: '1000' }, async (t, api) => {
      const script = sleepingScript(60);
      const { operationId } = await startUpdate(api, script);
      const remotePid = await startedPid(script.pidFile);
      await t.app.get(OperationStore).requestCancel(operationId, new Date()); // and no signal
      await t.app.get(OperationsService).tick();
      expect(await finished(api, operationId)).toMatchObject({ status: 'cancelled' });
      await eventually('the command to be stopped on the host', () => !isAlive(remotePid), 5000);
    });
  });

  it('never renews the lease of a run it no longer has: another check ends it as interrupted', async () => {
    await withApp('sqlite', {}, async (t, api) => {
      const serverId = (await expectStatus<{ id: string }>(api, 201, 'POST', '/api/servers', sshServerBody(sshd, user))).id;
      const service = t.app.get(OperationsService);
      // What a run that ended here without storing its end leaves: a running row of this replica, nothing in hand.
      const id = randomUUID();
      const past = new Date(Date.now() - 1000);
      await t.app.get(DataSource).getRepository(OperationEntity).insert(runningOperation({ id, serverId, action: 'update', ownerId: service.ownerId, leaseExpiresAt: past, startedAt: past }));
      await service.tick();
      expect(await getOperation(api, id)).toMatchObject({ status: 'interrupted', error: { code: 'OPERATION_INTERRUPTED' } });
    });
  });
});

describe.each(DATABASE_KINDS)('output that is not text (%s)', (kind) => {
  it('NUL bytes and invalid UTF-8 are stored as U+FFFD; the operation succeeds and its events read back', async () => {
    await withApp(kind, {}, async (_t, api) => {
      const script = sleepingScript(0, "printf 'a\\000b\\n\\377\\376c\\n'\nprintf 'x\\000' >&2\n");
      const { operationId } = await startUpdate(api, script);
      expect(await finished(api, operationId, 15_000)).toMatchObject({ status: 'succeeded', exitCode: 0, outputTail: expect.stringContaining('a\uFFFDb') });
      const list = await collectUntilEnd(await events(api, operationId));
      expectCompleteStream(list, { status: 'succeeded', exitCode: 0 });
      expect(linesByStream(list)).toEqual({ stdout: ['a\uFFFDb', '\uFFFD\uFFFDc', 'begin update', 'end update'], stderr: ['x\uFFFD'] });
    });
  });
});

describe('the wrapper every operation runs under', () => {
  it('passes on how the control script ended: its exit code, or the signal that killed it', async () => {
    await withApp('sqlite', {}, async (_t, api) => {
      const exits = await startUpdate(api, sleepingScript(0, 'exit 7\n'));
      expect(await finished(api, exits.operationId)).toMatchObject({ status: 'failed', exitCode: 7, error: null });
      const killed = await startUpdate(api, sleepingScript(0, 'kill -KILL $$\n'));
      expect(await finished(api, killed.operationId)).toMatchObject({ status: 'failed', exitCode: null, error: { code: 'KILLED_BY_SIGNAL', message: 'the command ended by signal SIGKILL' } });
    });
  });
});

describe('an operation that ends while PostgreSQL is away for longer than 20 s', () => {
  it('stores its last lines and its end once the database is back; the gauge and the database agree', async () => {
    const db = await createTestDatabase('postgres');
    const direct = new URL(db.url);
    const proxy = await startCuttableProxy({ host: direct.hostname, port: Number(direct.port) });
    const t = await createTestApp({ DATABASE_URL: throughProxy(db.url, proxy), OPERATION_LEASE_MS: '3000' });
    try {
      const api = await opsClient(t);
      const script = sleepingScript(2);
      const { operationId } = await startUpdate(api, script);
      await startedPid(script.pidFile);
      await until('the first line to be stored', async () => (await getOperation(api, operationId)).outputTail === 'begin update', 5000);
      await proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 25_000)); // the script ends 2 s in, its end waits
      await proxy.restore();
      const ended = await finished(api, operationId, 20_000);
      expect(ended).toMatchObject({ status: 'succeeded', exitCode: 0, outputTail: 'begin update\nend update' });
      expectCompleteStream(await collectUntilEnd(await events(api, operationId)), { status: 'succeeded', exitCode: 0 });
      const metrics = parsePrometheusText((await t.http.get('/metrics').expect(200)).text);
      expect(sampleValue(metrics, 'cs2_ssh_pool_operations_running')).toBe(0);
      expect((await db.rows('operations')).filter((row) => row.status === 'running')).toEqual([]);
    } finally {
      await t.close();
      await proxy.close();
      await db.drop();
    }
  }, 90_000);
});

describe.each(DATABASE_KINDS)('a service killed (SIGKILL) while a quiet command runs (%s)', (kind) => {
  let db: TestDatabase;
  const services: ServiceProcess[] = [];
  const marker = `sleep 90.${Math.floor(Math.random() * 1e6)}`;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    remoteProcesses(user, marker, 'SIGKILL');
    await db?.drop();
  });

  const start = async () => {
    const service = await ServiceProcess.start({ DATABASE_URL: db.url, CREDENTIALS_KEY, OPERATION_LEASE_MS: '1000', OPERATION_CANCEL_GRACE_MS: '1000' });
    services.push(service);
    return service;
  };

  it('the next operation of the server first stops what the killed one left on the host: they never overlap', async () => {
    const script = sleepingScript(marker.slice('sleep '.length));
    const first = await start();
    const { serverId, operationId: killed } = await startUpdate(first, script);
    const leftover = await startedPid(script.pidFile);
    process.kill(first.pid, 'SIGKILL');
    await first.stop();
    expect(isAlive(leftover)).toBe(true);
    rmSync(script.pidFile);

    const second = await start();
    await until('the killed operation to be interrupted', async () => (await getOperation(second, killed)).status === 'interrupted', 10_000);
    const { operationId } = await expectStatus<{ operationId: string }>(second, 202, 'POST', `/api/servers/${serverId}/actions/update`);
    const next = await startedPid(script.pidFile);
    expect({ leftoverAlive: isAlive(leftover), running: remoteProcesses(user, marker) }).toEqual({ leftoverAlive: false, running: 1 });
    expect(next).not.toBe(leftover);
    expect((await getOperation(second, operationId)).outputTail).toContain(`cs2-ssh-pool: stopping what operation ${killed} left running on the host`);
    await expectStatus(second, 200, 'DELETE', `/api/operations/${operationId}`);
    await eventually('the cancelled command to be gone', () => remoteProcesses(user, marker) === 0, 5000);
  }, 120_000);
});
