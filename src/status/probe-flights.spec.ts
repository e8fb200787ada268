import { ConcurrencyLimiter, ProbeFlights } from './probe-flights.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('ProbeFlights', () => {
  it('shares a running probe with callers it covers, not with a wider scope', async () => {
    const flights = new ProbeFlights<string>(0);
    const first = deferred<string>();
    let starts = 0;
    const start = () => (starts++, first.promise);
    const a = flights.run('host', ['/a', '/b'], start);
    const b = flights.run('host', ['/b'], start);
    const wider = flights.run('host', ['/a', '/c'], () => (starts++, Promise.resolve('wider')));
    first.resolve('probe');
    await expect(Promise.all([a, b, wider])).resolves.toEqual(['probe', 'probe', 'wider']);
    expect(starts).toBe(2);
  });

  it('serves a settled result for ttlMs, then probes again; ttl 0 never serves a settled one', async () => {
    let now = 1000;
    const cached = new ProbeFlights<number>(2000, () => now);
    let starts = 0;
    const start = () => Promise.resolve(++starts);
    expect(await cached.run('h', ['/a'], start)).toBe(1);
    now += 1999;
    expect(await cached.run('h', ['/a'], start)).toBe(1);
    now += 1;
    expect(await cached.run('h', ['/a'], start)).toBe(2);

    const uncached = new ProbeFlights<number>(0, () => now);
    expect(await uncached.run('h', ['/a'], start)).toBe(3);
    expect(await uncached.run('h', ['/a'], start)).toBe(4);
  });
});

describe('ConcurrencyLimiter', () => {
  it('runs at most `limit` tasks at once, in arrival order', async () => {
    const limiter = new ConcurrencyLimiter(2);
    const gates = [deferred<void>(), deferred<void>(), deferred<void>()];
    const started: number[] = [];
    const runs = gates.map((gate, i) => limiter.run(async () => (started.push(i), gate.promise)));
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1]);
    gates[1].resolve();
    await new Promise((r) => setImmediate(r));
    expect(started).toEqual([0, 1, 2]);
    gates[0].resolve();
    gates[2].resolve();
    await Promise.all(runs);
  });
});
