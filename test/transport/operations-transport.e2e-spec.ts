import type { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { lastValueFrom, take, timeout, toArray } from 'rxjs';
import { OperationSignals } from '../../src/operations/operation-signals.js';
import { MAX_FRAME_CHARS } from '../../src/transport/internal-transport.js';
import { TEST_TOKEN, type TestApp } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { sshServerBody } from '../support/ssh-servers.js';
import type { SshdHost, TestUser } from '../support/sshd.js';
import { FakeControlScripts } from './fake-control-scripts.js';
import { frame, rawPeer, type RpcCaller, rpcError, serviceSockets, startTransportFixture, type TransportFixture } from './rpc-peers.js';

type Message = { id: number; event: string; data: unknown };
interface Started {
  operationId: string;
  serverId: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const line = (text: string, stream = 'stdout') => ({ stream, line: text });

/** The REST SSE body as the same messages: `id`, `event` and the JSON `data` of each event. */
function parseSse(text: string): Message[] {
  return text
    .split('\n\n')
    .filter((block) => /^id: /m.test(block))
    .map((block) => {
      const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(block)?.[1] ?? '';
      return { id: Number(field('id')), event: field('event'), data: JSON.parse(field('data')) as unknown };
    });
}

describe('operations over the internal TCP transport (ClientProxy, real sshd, fake cs2server)', () => {
  let fixture: TransportFixture;
  let user: TestUser;
  let sshd: SshdHost;
  let t: TestApp;
  let rpc: RpcCaller;
  const scripts = new FakeControlScripts();

  const server = async (controlScript: string): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { controlScript })).expect(201)).body.id as string;
  const start = (id: string, action = 'update') => rpc.call<Started>('operations.start', { id, action });
  const events = (payload: Record<string, unknown>, client = rpc.client) =>
    lastValueFrom(client.send<Message>({ cmd: 'operations.events' }, { token: TEST_TOKEN, ...payload }).pipe(toArray(), timeout(30_000)), { defaultValue: [] });
  const status = async (operationId: string) => (await t.api.get(`/api/operations/${operationId}`).expect(200)).body.status as string;
  /** Waits (over REST) until the operation ended; returns its status. */
  const ended = async (operationId: string): Promise<string> => {
    for (let deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
      const now = await status(operationId);
      if (now !== 'running') return now;
    }
    throw new Error(`operation ${operationId} still running after 30 s`);
  };

  beforeAll(async () => {
    fixture = await startTransportFixture('127.0.0.17');
    ({ user, sshd, t, rpc } = fixture);
  });
  afterAll(() => fixture?.close());

  it('starts an action and streams its events in order, one message each, ending with done; the same events as SSE', async () => {
    const id = await server(scripts.quick());
    const started = await start(id);
    expect(started).toEqual({ operationId: expect.stringMatching(UUID), serverId: id, action: 'update', status: 'running' });
    const received = await events({ id: started.operationId });
    expect(received).toEqual([
      { id: 1, event: 'output', data: line('cs2server update') },
      ...FakeControlScripts.progressEvents(2),
      { id: 8, event: 'output', data: line('minor warning', 'stderr') },
      { id: 9, event: 'output', data: line('finished') },
      { id: 10, event: 'done', data: { status: 'succeeded', exitCode: 0 } },
    ]);
    const operation = await rpc.call('operations.get', { id: started.operationId.toUpperCase() });
    expect(operation).toEqual((await t.api.get(`/api/operations/${started.operationId}`).expect(200)).body);
    expect(operation).toMatchObject({ id: started.operationId, serverId: id, status: 'succeeded', exitCode: 0, progress: 100, error: null });
    const sse = await t.api.get(`/api/operations/${started.operationId}/events`).expect(200).expect('Content-Type', /text\/event-stream/);
    expect(parseSse(sse.text)).toEqual(received);
  });

  it('resumes after lastEventId: exactly the missed events of a finished operation, and of a running one then its live ones', async () => {
    const done = await start(await server(scripts.quick()));
    const all = await events({ id: done.operationId });
    expect(await events({ id: done.operationId, lastEventId: 7 })).toEqual(all.slice(7));
    expect(await events({ id: done.operationId, lastEventId: all.length })).toEqual([]);

    const gate = scripts.gated();
    const running = await start(await server(gate.path));
    const firstTwo = await lastValueFrom(rpc.client.send<Message>({ cmd: 'operations.events' }, { token: TEST_TOKEN, id: running.operationId }).pipe(take(2), toArray()));
    expect(firstTwo).toEqual([
      { id: 1, event: 'output', data: line('cs2server update') },
      { id: 2, event: 'output', data: line('waiting') },
    ]);
    const rest = events({ id: running.operationId, lastEventId: 2 });
    gate.release();
    expect(await rest).toEqual([
      ...FakeControlScripts.progressEvents(3),
      { id: 9, event: 'output', data: line('finished') },
      { id: 10, event: 'done', data: { status: 'succeeded', exitCode: 0 } },
    ]);
  });

  it('answers 409 OPERATION_IN_PROGRESS to start and batch while one runs, and starts nothing', async () => {
    const gate = scripts.gated();
    const [busy, idle] = [await server(gate.path), await server(scripts.quick())];
    const running = await start(busy);
    const details = { serverId: busy, operationId: running.operationId, serverIds: [busy] };
    await expect(start(busy, 'restart')).rejects.toEqual(rpcError(409, 'OPERATION_IN_PROGRESS', { details }));
    await expect(rpc.call('operations.batch', { serverIds: [idle, busy], action: 'stop' })).rejects.toEqual(rpcError(409, 'OPERATION_IN_PROGRESS', { details }));
    expect(await rpc.call('operations.list', { id: idle })).toEqual({ items: [], total: 0, limit: 20, offset: 0 });
    gate.release();
    expect(await ended(running.operationId)).toBe('succeeded');
  });

  it('cancels: the remote process stops, the reply and the stream say cancelled, a second cancel is 409', async () => {
    const gate = scripts.gated();
    const { operationId } = await start(await server(gate.path));
    await eventually('the control script to run on the host', () => gate.running());
    const cancelled = await rpc.call('operations.cancel', { id: operationId });
    expect(cancelled).toMatchObject({ id: operationId, status: 'cancelled', exitCode: null, finishedAt: expect.any(String) });
    expect(cancelled).toEqual((await t.api.get(`/api/operations/${operationId}`).expect(200)).body);
    await eventually('the control script to be gone from the host', () => !gate.running());
    expect((await events({ id: operationId })).at(-1)).toEqual({ id: expect.any(Number), event: 'done', data: { status: 'cancelled', exitCode: null } });
    await expect(rpc.call('operations.cancel', { id: operationId })).rejects.toEqual(
      rpcError(409, 'OPERATION_NOT_RUNNING', { details: { id: operationId, status: 'cancelled' } }),
    );
  });

  it('runs a batch in serverIds order and lists a server’s operations newest first, as REST does', async () => {
    const [a, b] = [await server(scripts.quick()), await server(scripts.quick())];
    const batch = await rpc.call<{ operations: Started[] }>('operations.batch', { serverIds: [a, b], action: 'validate' });
    expect(batch).toEqual({
      operations: [a, b].map((serverId) => ({ operationId: expect.stringMatching(UUID), serverId, action: 'validate', status: 'running' })),
    });
    for (const { operationId } of batch.operations) expect(await ended(operationId)).toBe('succeeded');
    const later = await start(a, 'restart');
    await ended(later.operationId);
    const page = await rpc.call<{ items: { id: string }[] }>('operations.list', { id: a, limit: 1 });
    expect(page).toEqual({ items: [expect.objectContaining({ id: later.operationId, action: 'restart' })], total: 2, limit: 1, offset: 0 });
    expect(page).toEqual((await t.api.get(`/api/servers/${a}/operations?limit=1`).expect(200)).body);
    expect(await rpc.call('operations.list', { id: a, offset: 1 })).toEqual((await t.api.get(`/api/servers/${a}/operations?offset=1`).expect(200)).body);
  });

  it('takes batch serverIds in any case, over TCP and REST, and counts ids differing only in case as duplicates', async () => {
    const [a, b] = [await server(scripts.quick()), await server(scripts.quick())];
    const batch = await rpc.call<{ operations: Started[] }>('operations.batch', { serverIds: [a.toUpperCase(), b], action: 'validate' });
    expect(batch.operations.map((o) => o.serverId)).toEqual([a, b]);
    for (const { operationId } of batch.operations) expect(await ended(operationId)).toBe('succeeded');
    const rest = await t.api.post('/api/operations/batch').send({ serverIds: [b.toUpperCase()], action: 'validate' });
    expect({ status: rest.status, serverIds: rest.body.operations?.map((o: Started) => o.serverId) }).toEqual({ status: 202, serverIds: [b] });
    await ended(rest.body.operations[0].operationId);
    const twice = { serverIds: [a, a.toUpperCase()], action: 'update' };
    await expect(rpc.call('operations.batch', twice)).rejects.toEqual(rpcError(400, 'VALIDATION_FAILED', { details: [expect.objectContaining({ field: 'serverIds' })] }));
    await t.api.post('/api/operations/batch').send(twice).expect(400);
  });

  it('refuses a wrong or missing token with 401 UNAUTHORIZED for every operations pattern, starting nothing', async () => {
    const id = await server(scripts.quick());
    const sessions = sshd.sessionsStarted();
    const calls: [string, Record<string, unknown>][] = [
      ['operations.start', { id, action: 'update' }],
      ['operations.batch', { serverIds: [id], action: 'update' }],
      ['operations.get', { id: randomUUID() }],
      ['operations.cancel', { id: randomUUID() }],
      ['operations.list', { id }],
      ['operations.events', { id: randomUUID() }],
    ];
    for (const [cmd, payload] of calls) {
      await expect(rpc.call(cmd, { ...payload, token: 'wrong-token' })).rejects.toEqual(rpcError(401, 'UNAUTHORIZED'));
      await expect(rpc.call(cmd, { ...payload, token: undefined })).rejects.toEqual(rpcError(401, 'UNAUTHORIZED'));
    }
    expect(await rpc.call('operations.list', { id })).toMatchObject({ total: 0 });
    expect(sshd.sessionsStarted()).toBe(sessions);
  });

  it('validates payloads with 400 VALIDATION_FAILED naming each field, and answers 404 for unknown operations and servers', async () => {
    const id = await server(scripts.quick());
    const invalid = (details: unknown) => rpcError(400, 'VALIDATION_FAILED', { details });
    await expect(start(id, 'explode')).rejects.toEqual(invalid([{ field: 'action', messages: [expect.stringContaining('action must be one of')] }]));
    await expect(rpc.call('operations.start', { id, action: 'update', force: true })).rejects.toEqual(invalid([{ field: 'force', messages: ['property force should not exist'] }]));
    await expect(events({ id: 'nope', lastEventId: -1 })).rejects.toEqual(
      invalid(expect.arrayContaining([{ field: 'id', messages: ['id must be a UUID'] }, { field: 'lastEventId', messages: [expect.any(String)] }])),
    );
    await expect(rpc.call('operations.list', { id, limit: 101, offset: -1 })).rejects.toEqual(
      invalid(expect.arrayContaining([expect.objectContaining({ field: 'limit' }), expect.objectContaining({ field: 'offset' })])),
    );
    await expect(rpc.call('operations.batch', { serverIds: [id, id], action: 'update' })).rejects.toEqual(invalid([expect.objectContaining({ field: 'serverIds' })]));
    await expect(rpc.call('operations.get', {})).rejects.toEqual(invalid([expect.objectContaining({ field: 'id' })]));
    expect(await rpc.call('operations.list', { id })).toMatchObject({ total: 0 });

    const unknown = randomUUID();
    for (const cmd of ['operations.get', 'operations.cancel', 'operations.events']) {
      await expect(rpc.call(cmd, { id: unknown })).rejects.toEqual(rpcError(404, 'OPERATION_NOT_FOUND', { details: { id: unknown } }));
    }
    await expect(start(unknown)).rejects.toEqual(rpcError(404, 'SERVER_NOT_FOUND', { details: { id: unknown } }));
    await expect(rpc.call('operations.list', { id: unknown })).rejects.toEqual(rpcError(404, 'SERVER_NOT_FOUND', { details: { id: unknown } }));
    const other = randomUUID();
    await expect(rpc.call('operations.batch', { serverIds: [unknown, id, other], action: 'update' })).rejects.toEqual(
      rpcError(404, 'SERVER_NOT_FOUND', { details: { ids: [unknown, other] } }),
    );
    expect(await rpc.call('operations.list', { id })).toMatchObject({ total: 0 });
  });

  it('stops reading for a client that disconnects mid-stream; the operation runs on to succeeded', async () => {
    const gate = scripts.gated();
    const { operationId } = await start(await server(gate.path));
    // The readers of this operation's events: each SSE or TCP subscriber holds one listener.
    const local = Reflect.get(t.app.get(OperationSignals), 'local') as EventEmitter;
    const readers = () => local.listenerCount(`events:${operationId}`);
    const peer = await rawPeer(fixture.port);
    peer.socket.write(frame({ id: randomUUID(), pattern: { cmd: 'operations.events' }, data: { token: TEST_TOKEN, id: operationId } }));
    await eventually(() => `the first events, got: ${peer.received()}`, () => peer.received().includes('"line":"waiting"'));
    expect(readers()).toBe(1);
    peer.socket.destroy();
    await eventually(() => `the reader to stop (${readers()} left)`, () => readers() === 0);
    expect(await status(operationId)).toBe('running');
    gate.release();
    expect(await ended(operationId)).toBe('succeeded');
    expect(await events({ id: operationId })).toEqual([
      { id: 1, event: 'output', data: line('cs2server update') },
      { id: 2, event: 'output', data: line('waiting') },
      ...FakeControlScripts.progressEvents(3),
      { id: 9, event: 'output', data: line('finished') },
      { id: 10, event: 'done', data: { status: 'succeeded', exitCode: 0 } },
    ]);
  });

  it('delivers a backlog far larger than the frame cap as one bounded message per event', async () => {
    const [lines, width] = [3000, 200];
    const { operationId } = await start(await server(scripts.chatty(lines, width)));
    expect(await ended(operationId)).toBe('succeeded');
    expect(lines * width).toBeGreaterThan(4 * MAX_FRAME_CHARS);
    // A peer as strict as this service: it accepts no frame above MAX_FRAME_CHARS either.
    const strict = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: fixture.port, maxBufferSize: MAX_FRAME_CHARS } });
    try {
      const received = await events({ id: operationId }, strict);
      expect(received.map((m) => m.id)).toEqual(Array.from({ length: lines + 2 }, (_, i) => i + 1));
      expect(received.slice(1, -1).map((m) => m.data)).toEqual(Array.from({ length: lines }, (_, i) => line(String(i).padStart(width, '0'))));
      expect(received.at(-1)).toEqual({ id: lines + 2, event: 'done', data: { status: 'succeeded', exitCode: 0 } });
    } finally {
      strict.close();
    }
  });

  it('sends a caller that reads nothing one page of a long backlog, not all of it, and the rest once it reads', async () => {
    const [lines, width] = [10_000, 2000];
    const { operationId } = await start(await server(scripts.chatty(lines, width)));
    expect(await ended(operationId)).toBe('succeeded');
    const others = new Set(serviceSockets(t.app));
    const peer = await rawPeer(fixture.port);
    peer.socket.pause();
    peer.socket.write(frame({ id: randomUUID(), pattern: { cmd: 'operations.events' }, data: { token: TEST_TOKEN, id: operationId } }));
    await eventually('the service to accept the connection', () => serviceSockets(t.app).some((s) => !others.has(s)));
    const [socket] = serviceSockets(t.app).filter((s) => !others.has(s));
    await eventually('the first replies to be written', () => socket.writableLength > 0);
    // A page (500 events) of about 1 MB may wait in memory; the whole backlog is 20 MB.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    expect(socket.writableLength).toBeLessThan(4 * 1024 * 1024);
    peer.socket.resume();
    await eventually(() => `the whole backlog (${peer.received().length} characters so far)`, () => peer.received().includes('"event":"done"'), 30_000);
    expect(peer.received().match(/"event":"output"/g)).toHaveLength(lines + 1);
    peer.socket.destroy();
  });
});
