import { collect, FakeOperationStore, FakeSignals } from '../../test/fakes/fake-operation-store.js';
import type { MessageEvent } from '@nestjs/common';
import { jest } from '@jest/globals';
import { operationEvents } from './operation-events.stream.js';

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
});
