// Operations across replicas (issue 10): two app instances on one PostgreSQL database share the
// one-running-operation rule, stream and cancel each other's operations; a service killed mid-operation
// leaves it `interrupted` once another start notices its lease expired (PostgreSQL and SQLite).
import { randomBytes } from 'node:crypto';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { ServiceProcess } from '../support/service-process.js';
import { collectUntilEnd } from '../support/sse.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeCs2ServerFarm, processesEnd, type FakeCs2Server } from './fake-cs2server.js';
import { act, addServer, events, expectCompleteStream, finished, getOperation, opsClient, plain, type OpsClient } from './ops-fixtures.js';

/** Replicas share the key that seals stored secrets, as they must in production. */
const CREDENTIALS_KEY = randomBytes(32).toString('base64');

let user: TestUser;
let sshd: SshdHost;
let farm: FakeCs2ServerFarm;
let port = 27700;

beforeAll(async () => {
  user = loadTestUser();
  sshd = await startSshd({ address: '127.0.0.67' });
  farm = new FakeCs2ServerFarm(user.username);
});
afterAll(async () => {
  farm?.cleanup();
  await sshd?.stop();
});

async function server(client: OpsClient, name: string, update: { steps: number; intervalS: number }): Promise<{ fake: FakeCs2Server; id: string }> {
  const fake = farm.add(name, port++);
  fake.configureUpdate(update);
  return { fake, id: await addServer(client, sshd, user, fake) };
}

describe('two instances on one PostgreSQL database', () => {
  let db: TestDatabase;
  let a: TestApp;
  let b: TestApp;
  let apiA: OpsClient;
  let apiB: OpsClient;

  beforeAll(async () => {
    db = await createTestDatabase('postgres');
    [a, b] = await Promise.all([createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY }), createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY })]);
    [apiA, apiB] = await Promise.all([opsClient(a), opsClient(b)]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close()]);
    await db?.drop();
  });

  it('B answers 409 while A runs one; B streams A\'s events in order with done, as A does', async () => {
    const { id } = await server(apiA, 'relay', { steps: 40, intervalS: 0.1 });
    const { operationId } = await act(apiA, id, 'update');
    const [onA, onB] = await Promise.all([events(apiA, operationId), events(apiB, operationId)]);
    const busy = await apiB.request('POST', `/api/servers/${id}/actions/validate`);
    expect(busy).toEqual({ status: 409, body: { ...errorBody(409, 'OPERATION_IN_PROGRESS'), details: expect.objectContaining({ serverId: id, operationId }) } });

    const [listA, listB] = await Promise.all([collectUntilEnd(onA), collectUntilEnd(onB)]);
    expectCompleteStream(listB, { status: 'succeeded', exitCode: 0 });
    expect(plain(listB)).toEqual(plain(listA));
    // Relayed by NOTIFY, B follows A live. Left to its 2 s poll, B would get ~20 steps (0.1 s each) at a
    // time, so an event would reach B only after A had 20 more. Counted in the operation's own steps
    // (events A already had), with room for a loaded machine, not in milliseconds.
    const steps = (list: typeof listA) => list.filter((e) => e.event === 'progress');
    const stepsAheadOfB = steps(listB).map((e, i) => steps(listA).filter((a) => a.receivedAt < e.receivedAt).length - (i + 1));
    expect(stepsAheadOfB).toHaveLength(40);
    expect(Math.max(...stepsAheadOfB)).toBeLessThan(10);
    expect(await getOperation(apiB, operationId)).toEqual(await getOperation(apiA, operationId));
    // B is free to start the next one once A's finished: the rule is the running row, not a memory.
    expect((await finished(apiB, (await act(apiB, id, 'validate')).operationId)).status).toBe('succeeded');
  });

  it('a cancel sent to B stops the operation running on A, on the host', async () => {
    const { fake, id } = await server(apiA, 'cancel-b', { steps: 600, intervalS: 0.1 });
    const { operationId } = await act(apiA, id, 'update');
    const { shell, helper } = await fake.updateRunning();
    const stream = await events(apiA, operationId);

    const cancelled = await apiB.request<{ status: string; exitCode: number | null }>('DELETE', `/api/operations/${operationId}`);
    expect(cancelled).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    await processesEnd([shell, helper]);
    expectCompleteStream(await collectUntilEnd(stream), { status: 'cancelled', exitCode: cancelled.body.exitCode });
    expect(await getOperation(apiA, operationId)).toMatchObject({ status: 'cancelled' });
  });
});

describe.each(DATABASE_KINDS)('a service killed mid-operation (%s)', (kind) => {
  let db: TestDatabase;
  const services: ServiceProcess[] = [];

  const startService = async () => {
    const env = { DATABASE_URL: db.url, CREDENTIALS_KEY, OPERATION_LEASE_MS: '1000' };
    const service = await ServiceProcess.start(env);
    services.push(service);
    return service;
  };

  beforeAll(async () => {
    // SQLite: a file both service processes open in turn (each ServiceProcess otherwise has its own).
    db = await createTestDatabase(kind);
  });
  afterAll(async () => {
    await Promise.all(services.map((s) => s.stop()));
    await db?.drop();
  });

  it('leaves the operation interrupted once a new start finds its lease expired', async () => {
    const first = await startService();
    const { fake, id } = await server(first, `killed-${kind}`, { steps: 600, intervalS: 0.1 });
    const { operationId } = await act(first, id, 'update');
    await fake.updateRunning();
    process.kill(first.pid, 'SIGKILL');
    await first.stop();

    const second = await startService();
    const deadline = Date.now() + 30_000; // generous: a loaded machine notices the expired lease late
    let op = await getOperation(second, operationId);
    while (op.status === 'running' && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      op = await getOperation(second, operationId);
    }
    expect(op).toMatchObject({ id: operationId, status: 'interrupted', finishedAt: expect.any(String) });
    const list = await collectUntilEnd(await events(second, operationId));
    expect(list.at(-1)).toMatchObject({ event: 'done', data: { status: 'interrupted' } });
    // The server is free again.
    fake.configureUpdate({ steps: 1, intervalS: 0.01 });
    expect((await finished(second, (await act(second, id, 'update')).operationId)).status).toBe('succeeded');
  }, 120_000); // two starts of the built service and an operation's lease running out
});
