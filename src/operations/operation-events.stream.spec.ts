import { collect, FakeOperationStore, FakeSignals } from '../../test/fakes/fake-operation-store.js';
import { eventually } from '../../test/support/eventually.js';
import type { MessageEvent } from '@nestjs/common';
import { jest } from '@jest/globals';
import { Observable, tap } from 'rxjs';
import { endWithErrorEvent, EVENTS_PER_TURN, operationEvents } from './operation-events.stream.js';

const output = (line: string) => ({ type: 'output' as const, data: { stream: 'stdout', line } });

describe('operationEvents', () => {
  let store: FakeOperationStore;
  let signals: FakeSignals;
  beforeEach(() => {
    store = new FakeOperationStore();
    signals = new FakeSignals();
    store.add('op');
  });
  const end = () => store.finish('op', store.rows.get('op')!.lastSeq, [{ type: 'done', data: { status: 'succeeded', exitCode: 0 } }], {
    status: 'succeeded', exitCode: 0, error: null, finishedAt: new Date(), progress: null, outputTail: '',
  });

  it('replays what is stored, then follows announced batches, and completes after done', async () => {
    await store.append('op', 0, [output('a'), output('b')], { progress: null, outputTail: '' });
    const all = collect(operationEvents(store, signals, 'op', 0));
    await new Promise((resolve) => setTimeout(resolve, 10));
    await store.append('op', 2, [output('c')], { progress: null, outputTail: '' });
    await signals.eventsStored('op');
    await end();
    await signals.eventsStored('op');
    expect((await all).map((m) => [m.id, m.type])).toEqual([['1', 'output'], ['2', 'output'], ['3', 'output'], ['4', 'done']]);
    expect(signals.listenerCount()).toBe(0);
  });

  it('resumes after Last-Event-ID with exactly the events after it', async () => {
    await store.append('op', 0, [output('a'), output('b'), output('c')], { progress: null, outputTail: '' });
    await end();
    expect((await collect(operationEvents(store, signals, 'op', 2))).map((m) => m.id)).toEqual(['3', '4']);
  });

  it('completes at once for a client that already has done', async () => {
    await store.append('op', 0, [output('a')], { progress: null, outputTail: '' });
    await end();
    expect(await collect(operationEvents(store, signals, 'op', 2))).toEqual([]);
  });

  it('says how an operation ended whose events were pruned', async () => {
    Object.assign(store.rows.get('op')!, { status: 'failed', exitCode: 3, lastSeq: 40 });
    expect(await collect(operationEvents(store, signals, 'op', 0))).toEqual([{ id: '40', type: 'done', data: { status: 'failed', exitCode: 3 } }]);
  });

  it('keeps a quiet stream alive with a comment every keepAliveMs, and finds a batch whose announcement was lost by looking on its own', async () => {
    jest.useFakeTimers();
    try {
      const messages: MessageEvent[] = [];
      const subscription = operationEvents(store, signals, 'op', 0, { pollMs: 30, keepAliveMs: 20 }).subscribe((m) => messages.push(m));
      await jest.advanceTimersByTimeAsync(0); // the first read, of an empty log, is over
      await store.append('op', 0, [output('unannounced')], { progress: null, outputTail: '' });
      await jest.advanceTimersByTimeAsync(29);
      expect(messages.filter((m) => m.comment === undefined)).toEqual([]); // not announced, not yet polled
      await jest.advanceTimersByTimeAsync(71);
      subscription.unsubscribe();
      // At 20, 40, 60, 80 and 100 ms of a 100 ms stream; the poll at 30 ms found the batch.
      expect(messages.filter((m) => m.comment === 'keep-alive')).toHaveLength(5);
      expect(messages.filter((m) => m.comment === undefined)).toEqual([{ id: '1', type: 'output', data: { stream: 'stdout', line: 'unannounced' } }]);
    } finally {
      jest.useRealTimers();
    }
  });

  it('unsubscribing (the client left) stops listening and leaves the operation alone', async () => {
    const subscription = operationEvents(store, signals, 'op', 0).subscribe();
    expect(signals.listenerCount()).toBe(1);
    subscription.unsubscribe();
    expect(signals.listenerCount()).toBe(0);
    expect(store.rows.get('op')!.status).toBe('running');
  });

  it('hands a backlog on EVENTS_PER_TURN events at a time, each once the subscriber is ready: a reader that stops reading holds one step', async () => {
    await store.append('op', 0, Array.from({ length: 200 }, (_, i) => output(`l${i}`)), { progress: null, outputTail: '' });
    let readyCalls = 0;
    // The connection is ready for the first read and its first step, and never again.
    const ready = () => (++readyCalls <= 2 ? Promise.resolve() : new Promise<void>(() => undefined));
    const messages: MessageEvent[] = [];
    const subscription = operationEvents(store, signals, 'op', 0, { ready, keepAliveMs: 10 }).subscribe((m) => messages.push(m));
    await eventually('the stream to wait for its reader a third time', () => readyCalls === 3);
    await new Promise((resolve) => setTimeout(resolve, 100)); // ten keep-alive periods while it waits
    subscription.unsubscribe();
    expect(readyCalls).toBe(3);
    const firstStep = Array.from({ length: EVENTS_PER_TURN }, (_, i) => String(i + 1));
    expect(messages.filter((m) => m.comment === undefined).map((m) => m.id)).toEqual(firstStep);
    // Nor does a stream waiting for its client queue keep-alive comments behind the events (one before
    // the first step, on a slow machine, is fine: nothing was waiting then).
    expect(messages.at(-1)?.id).toBe(String(EVENTS_PER_TURN));
  });

  it('replays long backlogs whole and in order, two readers taking turns rather than one after the other', async () => {
    await store.append('op', 0, Array.from({ length: 300 }, (_, i) => output(`l${i}`)), { progress: null, outputTail: '' });
    await end();
    const order: string[] = [];
    const follow = (reader: string) => collect(operationEvents(store, signals, 'op', 0).pipe(tap((m) => order.push(reader))));
    const [a, b] = await Promise.all([follow('a'), follow('b')]);
    const ids = Array.from({ length: 301 }, (_, i) => String(i + 1));
    expect([a.map((m) => m.id), b.map((m) => m.id)]).toEqual([ids, ids]);
    // b's first event comes long before a's last: a's replay did not hold the process until its end.
    expect(order.indexOf('b')).toBeLessThan(order.lastIndexOf('a') - 200);
  });
});

describe('endWithErrorEvent', () => {
  const failing = (delivered: MessageEvent[]) =>
    new Observable<MessageEvent>((subscriber) => {
      delivered.forEach((m) => subscriber.next(m));
      subscriber.error(new Error('connection to the database lost'));
    });

  it('ends a failed stream with an error event carrying the last delivered id, not a new one', async () => {
    const reports: unknown[] = [];
    const delivered = [{ id: '63', type: 'output', data: {} }, { comment: 'keep-alive' }, { id: '64', type: 'output', data: {} }];
    const all = await collect(failing(delivered).pipe(endWithErrorEvent(62, (error) => reports.push(error))));
    expect(all.at(-1)).toEqual({ id: '64', type: 'error', data: { code: 'INTERNAL_ERROR', message: 'Internal server error' } });
    expect(reports).toHaveLength(1);
  });

  it('before any event, carries the client’s own Last-Event-ID', async () => {
    expect(await collect(failing([]).pipe(endWithErrorEvent(7, () => undefined)))).toEqual([
      { id: '7', type: 'error', data: { code: 'INTERNAL_ERROR', message: 'Internal server error' } },
    ]);
  });
});
