// The operations event stream under clients that do not read (issue: SSE replay not paced), an error
// mid-stream (its event carries no new id), and a Last-Event-ID past the end (REST and TCP agree).
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { SchedulerRegistry } from '@nestjs/schedule';
import { SSE_MAX_QUEUED_CHARS } from '../../src/operations/operation-events.stream.js';
import { runningOperation } from '../../src/operations/operation.entity.js';
import { OperationStore } from '../../src/operations/operation-store.js';
import { createTestApp, serverBody, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { collectUntilEnd, openSse } from '../support/sse.js';
import { freePort } from '../support/sshd.js';
import { rpcCaller, rpcError, type RpcCaller } from '../transport/rpc-peers.js';

const WIDTH = 400;
const line = (seq: number) => String(seq).padStart(WIDTH, 'x');
const state = { progress: null, outputTail: '' };
/** The bytes of an output event as the SSE stream frames it. */
const frameBytes = (seq: number) => `event: output\nid: ${seq}\ndata: ${JSON.stringify({ stream: 'stdout', line: line(seq) })}\n\n`.length;

describe('operation event streams: pacing, errors, resume points (sqlite)', () => {
  let db: TestDatabase;
  let t: TestApp;
  let store: OperationStore;
  let rpc: RpcCaller;
  let base: string;
  let serverId: string;

  beforeAll(async () => {
    db = await createTestDatabase('sqlite');
    const port = await freePort();
    t = await createTestApp({ DATABASE_URL: db.url, INTERNAL_TCP_PORT: String(port) });
    store = t.app.get(OperationStore);
    // Operations written here by hand have no owner renewing their lease.
    t.app.get(SchedulerRegistry).deleteInterval('operations-lease');
    await t.app.listen(0, '127.0.0.1');
    base = await t.app.getUrl();
    rpc = await rpcCaller(port);
    serverId = (await t.api.post('/api/servers').send(serverBody()).expect(201)).body.id as string;
  });
  afterAll(async () => {
    rpc?.client.close();
    await t?.close();
    await db?.drop();
  });

  /** An ended operation with `lines` output events and its `done` (event `lines + 1`). */
  async function endedOperation(lines: number): Promise<string> {
    const now = new Date();
    const operation = runningOperation({ id: randomUUID(), serverId, action: 'update', ownerId: 'writer', leaseExpiresAt: new Date(now.getTime() + 3_600_000), startedAt: now });
    await store.createRunning([operation]);
    for (let seq = 0; seq < lines; seq += 2000) {
      const batch = Array.from({ length: Math.min(2000, lines - seq) }, (_, i) => ({ type: 'output' as const, data: { stream: 'stdout', line: line(seq + i + 1) } }));
      expect(await store.append(operation.id, seq, batch, state)).toBe(true);
    }
    const done = { type: 'done' as const, data: { status: 'succeeded', exitCode: 0 } };
    expect(await store.finish(operation.id, lines, [done], { status: 'succeeded', exitCode: 0, error: null, finishedAt: new Date(), ...state })).toBe(true);
    return operation.id;
  }

  type EventsRead = OperationStore['events'];
  /** Replaces the store's event reads with `wrap(the real ones)`. @returns what puts them back */
  function wrapEvents(wrap: (page: EventsRead) => EventsRead): () => void {
    const page = store.events.bind(store);
    store.events = wrap(page);
    return () => void (store.events = page);
  }

  /** A client that asks for the stream and then reads nothing. */
  function nonReader(operationId: string): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => resolve(socket));
      socket.once('error', reject);
      socket.pause();
      socket.write(`GET /api/operations/${operationId}/events HTTP/1.1\r\nHost: pool\r\nAuthorization: Bearer ${TEST_TOKEN}\r\nAccept: text/event-stream\r\n\r\n`);
    });
  }

  it('holds less than the per-subscriber bound for each client that reads nothing, drops none of them, and keeps answering /health/live', async () => {
    const lines = 40_000; // 17 MB of events each: far more than the sockets' kernel buffers take
    const operationId = await endedOperation(lines);
    let read = 0;
    const restore = wrapEvents((page) => async (id, afterSeq) => {
      const events = await page(id, afterSeq);
      if (id === operationId) read += events.reduce((sum, e) => sum + frameBytes(e.seq), 0);
      return events;
    });
    const serviceEnds = new Map<number, Socket>();
    (t.app.getHttpServer() as Server).on('connection', (socket: Socket) => serviceEnds.set(socket.remotePort!, socket));
    const clients = await Promise.all(Array.from({ length: 20 }, () => nonReader(operationId)));
    try {
      const ends = () => clients.map((c) => serviceEnds.get(c.localPort!)).filter((s) => s !== undefined);
      // Settled: nothing more read from the database for a whole second.
      let [last, since] = [-1, Date.now()];
      await eventually(() => `the readers to stop reading the database (${read} bytes read, ${ends().filter((s) => s.destroyed).length} dropped)`, () => {
        if (read !== last) [last, since] = [read, Date.now()];
        return read > 0 && Date.now() - since > 1000;
      }, 60_000);
      expect(ends()).toHaveLength(clients.length);
      expect(ends().filter((s) => s.destroyed)).toEqual([]);
      const accepted = ends().reduce((sum, s) => sum + s.bytesWritten - s.writableLength, 0);
      // What was read from the database and is not yet in the kernel's hands is held in the process.
      expect((read - accepted) / clients.length).toBeLessThan(SSE_MAX_QUEUED_CHARS);
      expect(read).toBeLessThan(clients.length * lines * frameBytes(lines));
      await t.http.get('/health/live').expect(200);
    } finally {
      clients.forEach((c) => c.destroy());
      restore();
    }
  }, 120_000);

  it('a reader cut off mid-replay resumes with Last-Event-ID and gets exactly the events it missed', async () => {
    const lines = 5000;
    const operationId = await endedOperation(lines);
    const first = await openSse(`${base}/api/operations/${operationId}/events`, { token: TEST_TOKEN });
    const got: number[] = [];
    while (got.length < 1200) got.push((await first.next())!.id);
    first.close();
    for (let event = await first.next(); event; event = await first.next()) got.push(event.id);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => i + 1));
    expect(got.length).toBeLessThan(lines);
    const rest = await collectUntilEnd(await openSse(`${base}/api/operations/${operationId}/events`, { token: TEST_TOKEN, lastEventId: got.at(-1) }), 60_000);
    expect(rest.map((e) => e.id)).toEqual(Array.from({ length: lines + 1 - got.length }, (_, i) => got.length + i + 1));
    expect(rest.at(-1)).toMatchObject({ event: 'done', data: { status: 'succeeded', exitCode: 0 } });
  });

  it('ends with an error event that carries the last delivered id when the database fails mid-stream', async () => {
    const operationId = await endedOperation(1200);
    let reads = 0;
    const restore = wrapEvents((page) => async (id, afterSeq) => {
      if (id === operationId && ++reads === 2) throw new Error('SQLITE_IOERR: disk I/O error');
      return page(id, afterSeq);
    });
    try {
      const events = await collectUntilEnd(await openSse(`${base}/api/operations/${operationId}/events`, { token: TEST_TOKEN, lastEventId: 3 }));
      const last = events.at(-1)!;
      expect(last).toMatchObject({ event: 'error', data: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
      const delivered = events.slice(0, -1).map((e) => e.id);
      expect(delivered).toEqual(Array.from({ length: delivered.length }, (_, i) => i + 4));
      expect(last.id).toBe(delivered.at(-1));
    } finally {
      restore();
    }
  });

  it('refuses a Last-Event-ID past the last event with 400 VALIDATION_FAILED, over REST and TCP; the last one itself gets an empty stream', async () => {
    const operationId = await endedOperation(3);
    const past = await openSse(`${base}/api/operations/${operationId}/events`, { token: TEST_TOKEN, lastEventId: 5 });
    expect(past.status).toBe(400);
    expect(await past.body()).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'Last-Event-ID', messages: [expect.stringContaining('at most 4')] }] });
    await expect(rpc.call('operations.events', { id: operationId, lastEventId: 5 })).rejects.toEqual(
      rpcError(400, 'VALIDATION_FAILED', { details: [{ field: 'lastEventId', messages: [expect.stringContaining('at most 4')] }] }),
    );
    const atEnd = await openSse(`${base}/api/operations/${operationId}/events`, { token: TEST_TOKEN, lastEventId: 4 });
    expect(atEnd.status).toBe(200);
    expect(await collectUntilEnd(atEnd)).toEqual([]);
  });
});
