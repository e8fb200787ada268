import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { eventually } from '../../test/support/eventually.js';
import { createPool } from '../../test/support/pool-module.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type { SshPoolService } from './ssh-pool.service.js';
import type { StreamOptions } from './ssh-pool.types.js';

class Stopped extends Error {}

/** The command runs (its channel is open and read) once the pool counts the channel; a tick later its reader is attached. */
async function running(pool: SshPoolService): Promise<void> {
  await eventually('the command to run', () => pool.getStats().channels_in_use === 1, 5000);
  await new Promise((resolve) => setImmediate(resolve));
}

describe('SshPoolService.stream (long commands, fake connector)', () => {
  let fake: FakeConnector;
  let app: INestApplication;
  let pool: SshPoolService;
  let chunks: string[];
  const options = (overrides: Partial<StreamOptions> = {}): StreamOptions => ({
    timeoutMs: 10_000,
    termGraceMs: 100,
    sink: (stream, chunk) => chunks.push(`${stream}:${chunk.toString()}`),
    ...overrides,
  });

  beforeEach(async () => {
    fake = new FakeConnector();
    chunks = [];
    ({ app, pool } = await createPool({ SHUTDOWN_GRACE_MS: '50' }, fake));
  });
  afterEach(async () => {
    await app?.close();
  });

  it('hands output to the sink as it arrives and resolves with the exit', async () => {
    await expect(pool.stream(fakeTarget(), 'echo hello', options())).resolves.toEqual({ exitCode: 0, signal: null });
    expect(chunks).toEqual(['stdout:hello\n']);
  });

  it("the caller's abort sends SIGTERM, waits for the end, rejects with the caller's reason and frees the slot", async () => {
    const stop = new AbortController();
    const streamed = pool.stream(fakeTarget(), 'sleep 5000', options({ signal: stop.signal }));
    await running(pool);
    stop.abort(new Stopped('cancelled'));
    await expect(streamed).rejects.toBeInstanceOf(Stopped);
    expect(fake.killed).toEqual(['TERM:sleep 5000']);
    expect(pool.getStats().channels_in_use).toBe(0);
  });

  it('SIGKILLs a process group that outlives SIGTERM by termGraceMs', async () => {
    const stop = new AbortController();
    const streamed = pool.stream(fakeTarget(), 'stuck', options({ signal: stop.signal, termGraceMs: 50 }));
    await running(pool);
    stop.abort(new Stopped('cancelled'));
    await expect(streamed).rejects.toBeInstanceOf(Stopped);
    expect(fake.killed).toEqual(['TERM:stuck', 'KILL:stuck']);
  });

  it('ends at timeoutMs with EXEC_TIMEOUT (SIGTERM first)', async () => {
    await expect(pool.stream(fakeTarget(), 'sleep 5000', options({ timeoutMs: 50 }))).rejects.toMatchObject({ code: SshPoolErrorCode.EXEC_TIMEOUT });
    expect(fake.killed).toEqual(['TERM:sleep 5000']);
  });

  it('shutdown gives it the grace period, then SIGKILLs it (no second grace) with POOL_SHUTTING_DOWN', async () => {
    const streamed = pool.stream(fakeTarget(), 'sleep 5000', options());
    await running(pool);
    await pool.shutdown();
    await expect(streamed).rejects.toEqual(new SshPoolError(SshPoolErrorCode.SHUTTING_DOWN, 'the SSH pool is shutting down'));
    expect(fake.killed).toEqual(['KILL:sleep 5000']);
  });
});
