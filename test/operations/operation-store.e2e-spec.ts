// OperationStore against both databases: the numbering rule between two writers, stale leases,
// and the retention prune (which runs unattended, hourly).
import { randomUUID } from 'node:crypto';
import { SchedulerRegistry } from '@nestjs/schedule';
import { LessThan } from 'typeorm';
import { runningOperation } from '../../src/operations/operation.entity.js';
import { OperationStore, type FinalState } from '../../src/operations/operation-store.js';
import { createTestApp, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';

const output = (line: string) => ({ type: 'output' as const, data: { stream: 'stdout', line } });
const state = { progress: null, outputTail: '' };
const ended = (finishedAt: Date): FinalState => ({ status: 'succeeded', exitCode: 0, error: null, finishedAt, ...state });

describe.each(DATABASE_KINDS)('OperationStore (%s)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let store: OperationStore;
  let serverId: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ DATABASE_URL: db.url });
    store = t.app.get(OperationStore);
    // The app's own lease upkeep would end the expired operations of these tests as interrupted.
    t.app.get(SchedulerRegistry).deleteInterval('operations-lease');
    serverId = (await t.api.post('/api/servers').send(serverBody()).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  const create = async (overrides: { leaseExpiresAt?: Date; serverId?: string } = {}) => {
    const now = new Date();
    const operation = runningOperation({ id: randomUUID(), serverId: overrides.serverId ?? serverId, action: 'update', ownerId: 'owner', leaseExpiresAt: overrides.leaseExpiresAt ?? now, startedAt: now });
    await store.createRunning([operation]);
    return operation.id;
  };

  it('lets only the writer that read the current last event number add events', async () => {
    const id = await create();
    expect(await store.append(id, 0, [output('a'), output('b')], state)).toBe(true);
    // A second writer that read 0 too (another replica ending it meanwhile) changes nothing.
    expect(await store.finish(id, 0, [{ type: 'done', data: {} }], ended(new Date()))).toBe(false);
    expect(await store.finish(id, 2, [{ type: 'done', data: { status: 'succeeded', exitCode: 0 } }], ended(new Date()))).toBe(true);
    expect((await store.events(id, 0)).map((e) => [e.seq, e.type])).toEqual([[1, 'output'], [2, 'output'], [3, 'done']]);
    expect(await store.append(id, 3, [output('late')], state)).toBe(false);
  });

  it('finds running operations whose lease ran out, and an owner’s renewal keeps them (only the runs it names)', async () => {
    const expired = await create({ leaseExpiresAt: new Date(Date.now() - 60_000) });
    const otherServer = (await t.api.post('/api/servers').send(serverBody()).expect(201)).body.id as string;
    const endedHere = await create({ leaseExpiresAt: new Date(Date.now() - 60_000), serverId: otherServer });
    const now = new Date();
    expect((await store.stale(now)).map((o) => o.id).sort()).toEqual([expired, endedHere].sort());
    await store.renew('owner', [expired], new Date(Date.now() + 60_000));
    expect((await store.stale(now)).map((o) => o.id)).toEqual([endedHere]);
    expect(await store.finish(expired, 0, [], ended(now), { leaseExpiresAt: LessThan(now) })).toBe(false);
    await store.renew('owner', [expired], new Date(Date.now() - 1000));
    expect(await store.finish(expired, 0, [{ type: 'done', data: {} }], ended(now), { leaseExpiresAt: LessThan(new Date()) })).toBe(true);
    expect(await store.finish(endedHere, 0, [{ type: 'done', data: {} }], ended(now), { leaseExpiresAt: LessThan(new Date()) })).toBe(true);
  });

  it('prunes the events of operations that ended before the cutoff, and only those', async () => {
    const old = await create();
    await store.finish(old, 0, [output('old'), { type: 'done', data: {} }], ended(new Date(Date.now() - 8 * 24 * 3600_000)));
    const recent = await create();
    await store.finish(recent, 0, [output('recent'), { type: 'done', data: {} }], ended(new Date()));
    const running = await create();
    await store.append(running, 0, [output('running')], state);
    await store.pruneEvents(new Date(Date.now() - 7 * 24 * 3600_000));
    expect(await store.events(old, 0)).toEqual([]);
    expect(await store.events(recent, 0)).toHaveLength(2);
    expect(await store.events(running, 0)).toHaveLength(1);
    expect(await store.get(old)).toMatchObject({ status: 'succeeded', lastSeq: 2 });
  });
});
