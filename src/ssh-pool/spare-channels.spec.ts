import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { eventually } from '../../test/support/eventually.js';
import { createPool } from '../../test/support/pool-module.js';
import { ConnectionKey, SecretHasher } from './connection-key.js';
import { PooledConnection } from './pooled-connection.js';
import { SPARE_WINDOW_MS } from './spare-channels.js';
import type { SshPoolService } from './ssh-pool.service.js';

const target = fakeTarget();

describe('spare channels (pool logic, fake connector)', () => {
  let fake: FakeConnector;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeEach(async () => {
    fake = new FakeConnector();
    fake.spares = true;
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });
  const start = async (env: Record<string, string> = {}) => ({ app, pool } = await createPool(env, fake));
  const spareReady = () => eventually('a spare to open', () => pool.getStats().spare_channels >= 1);

  it('runs the next command on the spare and opens its replacement at once', async () => {
    await start();
    await pool.exec(target, 'echo 1');
    await spareReady();
    await expect(pool.exec(target, 'echo 2')).resolves.toMatchObject({ stdout: '2\n' });
    // The replacement was opened when the spare was taken: it is ready as soon as the command returns.
    expect(pool.getStats()).toMatchObject({ spare_hits: 1, spare_channels: 1, channels_in_use: 0 });
    expect(fake.connections).toHaveLength(1);
  });

  it('with SSH_SPARE_CHANNELS=false opens no spare', async () => {
    await start({ SSH_SPARE_CHANNELS: 'false' });
    for (let i = 0; i < 3; i++) await pool.exec(target, `echo ${i}`);
    expect(fake.connections[0].spareLog).toEqual([]);
    expect(pool.getStats()).toMatchObject({ spare_hits: 0, spare_channels: 0 });
  });

  it('retries on a fresh channel when the server closed the idle spare, without an error', async () => {
    await start();
    await pool.exec(target, 'echo 1');
    await spareReady();
    fake.connections[0].closeIdleSpares();
    await expect(pool.exec(target, 'echo after')).resolves.toMatchObject({ exitCode: 0, stdout: 'after\n' });
    expect(pool.getStats()).toMatchObject({ spare_hits: 0, channels_in_use: 0, channel_open_refusals: 0, total_connections: 1 });
    await eventually('the dead spare to free its session', () => fake.connections[0].sessions === pool.getStats().spare_channels);
  });

  it('retries once on a fresh channel when the spare closes under its exec request', async () => {
    await start();
    await pool.exec(target, 'echo 1');
    await spareReady();
    fake.closeSpareOnExec = 1;
    await expect(pool.exec(target, 'echo raced')).resolves.toMatchObject({ exitCode: 0, stdout: 'raced\n' });
    expect(pool.getStats()).toMatchObject({ spare_hits: 0, channel_open_refusals: 0, total_connections: 1 });
    await eventually('the closed spare to free its slot', () => pool.getStats().channels_in_use === 0);
    // Twice in a row (the fresh channel too): a pool error, not a raw one, and nothing ran.
    fake.closeSpareOnExec = 2;
    await expect(pool.exec(target, 'echo twice')).rejects.toMatchObject({ code: 'SSH_CHANNEL_FAILED' });
    await eventually('both slots to free', () => pool.getStats().channels_in_use === 0);
    await expect(pool.exec(target, 'echo after')).resolves.toMatchObject({ stdout: 'after\n' });
  });

  it('never lets spares exceed MaxSessions or fail a command under bursts', async () => {
    fake.maxSessions = 3;
    await start({ POOL_MAX_CONNECTIONS_PER_KEY: '2' });
    for (let run = 0; run < 5; run++) {
      const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.exec(target, `sleep ${5 + (i % 3) * 5}`)));
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      await new Promise((r) => setTimeout(r, 20)); // spares reopen between bursts
    }
    expect(Math.max(...fake.connections.map((c) => c.peakSessions))).toBe(3);
    const limits = pool.getConnections().map((c) => c.channelLimit);
    expect(limits).not.toHaveLength(0);
    expect(limits).toEqual(limits.map(() => 3));
    expect(pool.getStats().spare_hits).toBeGreaterThan(0);
  });

  it('closes the spares before the connection when it retires, and at shutdown', async () => {
    await start();
    await pool.exec(target, 'echo 1');
    await spareReady();
    await pool.closeAll();
    expect(fake.connections[0].spareLog.slice(-2)).toEqual(['discard', 'connection-close']);
    await pool.exec(target, 'echo 2');
    await spareReady();
    await app!.close();
    app = undefined;
    expect(fake.connections[1].spareLog.slice(-2)).toEqual(['discard', 'connection-close']);
  });
});

describe('PooledConnection.wantsSpare', () => {
  const key = ConnectionKey.of({ host: 'h', port: 22, username: 'u', auth: { type: 'PASSWORD', password: 'p' } }, new SecretHasher());
  const connection = (limit: number) => new PooledConnection(key, { exec: () => Promise.reject(new Error('unused')), onClose: () => undefined, close: () => undefined }, 0, limit, 8);

  it('wants one after recent use, none once the connection has been unused for the window', () => {
    const c = connection(8);
    expect(c.wantsSpare(1000)).toBe(true);
    expect(c.wantsSpare(SPARE_WINDOW_MS)).toBe(false);
  });

  it('never takes the last slot: room for the spare and a command', () => {
    const c = connection(2);
    expect(c.wantsSpare(10)).toBe(true);
    c.channelsInUse = 1;
    expect(c.wantsSpare(10)).toBe(false);
    expect(connection(1).wantsSpare(10)).toBe(false);
  });

  it('keeps as many as the recent peak of commands asks for', () => {
    const c = connection(8);
    c.spares.noteInUse(4, 100);
    c.spares.opening = 3;
    expect(c.wantsSpare(200)).toBe(true);
    c.spares.opening = 4;
    expect(c.wantsSpare(200)).toBe(false);
    expect(c.spares.wanted(0, 100 + SPARE_WINDOW_MS + 1)).toBe(1);
  });
});
