import { FakeOperationStore, FakeSignals } from '../../test/fakes/fake-operation-store.js';
import { MAX_OUTPUT_EVENTS, MAX_PROGRESS_EVENTS, OperationLog, TAIL_LINES } from './operation-log.js';

const ended = { status: 'succeeded' as const, exitCode: 0, error: null, finishedAt: new Date() };
const out = (text: string) => Buffer.from(text);
const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('OperationLog', () => {
  let store: FakeOperationStore;
  let signals: FakeSignals;
  let log: OperationLog;
  beforeEach(() => {
    store = new FakeOperationStore();
    store.add('op');
    signals = new FakeSignals();
    log = new OperationLog('op', store, signals);
  });

  it('numbers output lines, progress changes and done without gaps, in the order they happened', async () => {
    log.sink('stdout', out('Update state (0x61) downloading, progress: 10.00 (1 / 10)\nsame: Update state (0x61) downloading, progress: 10.00 (1 / 10)\n'));
    log.sink('stderr', out('warn\n'));
    log.sink('stdout', out('Update state (0x61) downloading, progress: 55.5 (5 / 10)\nno newline'));
    expect(await log.finish(ended)).toBe(true);
    expect(store.stored.get('op')).toEqual([
      { seq: 1, type: 'output', data: { stream: 'stdout', line: 'Update state (0x61) downloading, progress: 10.00 (1 / 10)' } },
      { seq: 2, type: 'progress', data: { percent: 10 } },
      { seq: 3, type: 'output', data: { stream: 'stdout', line: 'same: Update state (0x61) downloading, progress: 10.00 (1 / 10)' } },
      { seq: 4, type: 'output', data: { stream: 'stderr', line: 'warn' } },
      { seq: 5, type: 'output', data: { stream: 'stdout', line: 'Update state (0x61) downloading, progress: 55.5 (5 / 10)' } },
      { seq: 6, type: 'progress', data: { percent: 55.5 } },
      { seq: 7, type: 'output', data: { stream: 'stdout', line: 'no newline' } },
      { seq: 8, type: 'done', data: { status: 'succeeded', exitCode: 0 } },
    ]);
    expect(store.rows.get('op')).toMatchObject({ status: 'succeeded', progress: 55.5, lastSeq: 8, exitCode: 0 });
  });

  it('stores in batches while running and announces each one after it is stored', async () => {
    for (let i = 0; i < 450; i++) log.sink('stdout', out(`line ${i}\n`));
    await tick(60);
    expect(store.stored.get('op')).toHaveLength(450);
    expect(store.writes).toBeLessThanOrEqual(4);
    expect(signals.announced).toBe(store.writes);
    expect(store.rows.get('op')!.outputTail.split('\n')).toHaveLength(TAIL_LINES);
    expect(store.rows.get('op')!.outputTail.endsWith('line 449')).toBe(true);
  });

  it('keeps at most 16 KiB of tail, whole lines, the newest last', async () => {
    const long = (c: string) => c.repeat(4000);
    for (const c of 'abcdef') log.sink('stdout', out(`${long(c)}\n`));
    await log.finish(ended);
    const tail = store.rows.get('op')!.outputTail;
    expect(tail).toBe([long('c'), long('d'), long('e'), long('f')].join('\n'));
    expect(tail.length).toBeLessThanOrEqual(16 * 1024);
  });

  it('keeps what a failed write held and stores it with the end', async () => {
    store.failNextWrites = 1;
    log.sink('stdout', out('a\nb\n'));
    await tick(60);
    expect(store.stored.get('op')).toEqual([]);
    log.sink('stdout', out('c\n'));
    await log.finish(ended);
    expect(store.stored.get('op')!.map((e) => e.data)).toEqual([
      { stream: 'stdout', line: 'a' },
      { stream: 'stdout', line: 'b' },
      { stream: 'stdout', line: 'c' },
      { status: 'succeeded', exitCode: 0 },
    ]);
  });

  it('stops storing, and asks the command to stop, once another replica ended the operation (its write no longer lands)', async () => {
    let stopAsked = 0;
    log = new OperationLog('op', store, signals, () => stopAsked++);
    log.sink('stdout', out('a\n'));
    await tick(60);
    Object.assign(store.rows.get('op')!, { status: 'interrupted', lastSeq: 2 });
    log.sink('stdout', out('b\n'));
    await tick(60);
    expect(log.lost).toBe(true);
    expect(stopAsked).toBe(1);
    expect(await log.finish(ended)).toBe(false);
    expect(store.rows.get('op')).toMatchObject({ status: 'interrupted' });
  });

  it('stores a progress event per whole percent entered, while the row follows every value', async () => {
    const steps = Array.from({ length: 10_000 }, (_, i) => ((i + 1) / 100).toFixed(2)); // 0.01 … 100.00
    log.sink('stdout', out(steps.map((p) => `Update state (0x61) downloading, progress: ${p} (1 / 2)\n`).join('')));
    await log.finish(ended);
    const percents = store.stored.get('op')!.filter((e) => e.type === 'progress').map((e) => (e.data as { percent: number }).percent);
    expect(percents).toEqual([0.01, ...Array.from({ length: 100 }, (_, i) => i + 1)]);
    expect(store.rows.get('op')).toMatchObject({ progress: 100 });
  });

  it('stores at most MAX_PROGRESS_EVENTS progress events however the value jumps about', async () => {
    const line = (p: string) => `Update state (0x61) downloading, progress: ${p} (1 / 2)\n`;
    log.sink('stdout', out(Array.from({ length: 300_000 }, (_, i) => line(i % 2 ? '49.99' : '50.01')).join('') + line('73.25')));
    await log.finish(ended);
    const progress = store.stored.get('op')!.filter((e) => e.type === 'progress');
    expect(progress).toHaveLength(MAX_PROGRESS_EVENTS);
    expect(store.rows.get('op')).toMatchObject({ progress: 73.25 });
  });

  it('stores at most MAX_OUTPUT_EVENTS lines, while the tail follows to the end', async () => {
    log.sink('stdout', out('x\n'.repeat(MAX_OUTPUT_EVENTS) + 'last\n'));
    await log.finish(ended);
    const events = store.stored.get('op')!;
    expect(events).toHaveLength(MAX_OUTPUT_EVENTS + 1);
    expect(events.at(-1)).toMatchObject({ type: 'done' });
    expect(store.rows.get('op')!.outputTail.endsWith('x\nlast')).toBe(true);
  });
});
