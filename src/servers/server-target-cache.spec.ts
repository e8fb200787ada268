import type { SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { ServerTargetCache } from './server-target-cache.js';
import type { PreparedTarget } from './ssh-target.factory.js';

const prepared = (password: string): PreparedTarget => {
  const target: SshTarget = { serverId: 's1', host: 'h', port: 22, username: 'u', auth: { type: 'PASSWORD', password } };
  return { kind: 'complete', target };
};

/** A load the test settles by hand, counting how often the cache asked for one. */
class Loads {
  count = 0;
  private settle: { resolve: (value: PreparedTarget) => void; reject: (error: Error) => void }[] = [];
  load = (): Promise<PreparedTarget> => {
    this.count++;
    return new Promise((resolve, reject) => this.settle.push({ resolve, reject }));
  };
  resolve(password: string): void {
    this.settle.shift()!.resolve(prepared(password));
  }
  reject(error: Error): void {
    this.settle.shift()!.reject(error);
  }
}

const passwordOf = async (value: Promise<PreparedTarget>) => {
  const resolved = await value;
  return resolved.kind === 'complete' && resolved.target.auth.type === 'PASSWORD' ? resolved.target.auth.password : null;
};

describe('ServerTargetCache', () => {
  let now: number;
  let cache: ServerTargetCache;
  let loads: Loads;
  beforeEach(() => {
    now = 1000;
    cache = new ServerTargetCache(10_000, () => now);
    loads = new Loads();
  });

  it('loads once for concurrent and later calls within the TTL, and again once it is over', async () => {
    const first = [cache.get('s1', loads.load), cache.get('s1', loads.load)];
    loads.resolve('pw-1');
    expect(await Promise.all(first.map(passwordOf))).toEqual(['pw-1', 'pw-1']);
    now += 9_999;
    await expect(passwordOf(cache.get('s1', loads.load))).resolves.toBe('pw-1');
    expect(loads.count).toBe(1);
    now += 1;
    const expired = cache.get('s1', loads.load);
    loads.resolve('pw-2');
    await expect(passwordOf(expired)).resolves.toBe('pw-2');
    expect(loads.count).toBe(2);
  });

  it('counts the TTL from when the load started, not from when it ended', async () => {
    const slow = cache.get('s1', loads.load);
    now += 6_000;
    loads.resolve('pw-1');
    await slow;
    now += 4_000;
    void cache.get('s1', loads.load);
    expect(loads.count).toBe(2);
  });

  it('forgets an invalidated server, and does not keep a load that was running when it changed', async () => {
    const running = cache.get('s1', loads.load);
    cache.invalidate('s1');
    loads.resolve('old');
    await expect(passwordOf(running)).resolves.toBe('old');
    const next = cache.get('s1', loads.load);
    loads.resolve('new');
    await expect(passwordOf(next)).resolves.toBe('new');
    expect(loads.count).toBe(2);
    cache.clear();
    void cache.get('s1', loads.load);
    expect(loads.count).toBe(3);
  });

  it('keeps no failure: every caller of the failed load sees it, the next call loads again', async () => {
    const failing = [cache.get('s1', loads.load), cache.get('s1', loads.load)];
    loads.reject(new Error('SERVER_NOT_FOUND'));
    for (const call of failing) await expect(call).rejects.toThrow('SERVER_NOT_FOUND');
    const retry = cache.get('s1', loads.load);
    loads.resolve('pw');
    await expect(passwordOf(retry)).resolves.toBe('pw');
    expect(loads.count).toBe(2);
  });

  it('refresh loads anew and keeps the result', async () => {
    const cached = cache.get('s1', loads.load);
    loads.resolve('old');
    await cached;
    const refreshed = cache.refresh('s1', loads.load);
    loads.resolve('new');
    await expect(passwordOf(refreshed)).resolves.toBe('new');
    await expect(passwordOf(cache.get('s1', loads.load))).resolves.toBe('new');
    expect(loads.count).toBe(2);
  });

  it('with a TTL of 0 loads every time and keeps nothing', async () => {
    cache = new ServerTargetCache(0, () => now);
    const calls = [cache.get('s1', loads.load), cache.get('s1', loads.load)];
    loads.resolve('a');
    loads.resolve('b');
    expect(await Promise.all(calls.map(passwordOf))).toEqual(['a', 'b']);
    expect(cache.size).toBe(0);
  });

  it('drops expired servers nobody asks for any more, so their secrets leave memory', async () => {
    for (const id of ['s1', 's2']) {
      const call = cache.get(id, loads.load);
      loads.resolve(id);
      await call;
    }
    expect(cache.size).toBe(2);
    now += 10_000;
    void cache.get('s3', loads.load);
    expect(cache.size).toBe(1);
  });
});
