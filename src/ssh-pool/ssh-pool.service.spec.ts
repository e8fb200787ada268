import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { createPool } from '../../test/support/pool-module.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type { SshPoolService } from './ssh-pool.service.js';

const target = fakeTarget;

describe('SshPoolService (pool logic, fake connector)', () => {
  let fake: FakeConnector;
  let app: INestApplication;
  let pool: SshPoolService;

  async function start(env: Record<string, string> = {}) {
    ({ app, pool } = await createPool(env, fake));
  }

  beforeEach(() => {
    fake = new FakeConnector();
  });
  afterEach(async () => {
    await app?.close();
  });

  it('makes one handshake for simultaneous first requests and shares it between servers', async () => {
    await start();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.exec(target({ serverId: `s${i % 3}` }), `echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 8 }, (_, i) => `${i}\n`));
    expect(fake.connectAttempts).toBe(1);
    expect(pool.getConnections()).toMatchObject([{ serverIds: ['s0', 's1', 's2'], commandsRun: 8 }]);
  });

  it('never shares a connection between different credentials or pins', async () => {
    await start();
    await pool.exec(target(), 'echo 1');
    await pool.exec(target({ auth: { type: 'PASSWORD', password: 'pw-2' } }), 'echo 2');
    await pool.exec(target({ hostKeyFingerprint: 'SHA256:pinned' }), 'echo 3').catch(() => undefined);
    await pool.exec(target(), 'echo 4');
    expect(fake.connectAttempts).toBe(3);
    expect(pool.getStats()).toMatchObject({ hits: 1, misses: 3 });
  });

  it('learns MaxSessions from refusals and completes every command with bounded connections', async () => {
    fake.maxSessions = 2;
    await start({ POOL_MAX_CONNECTIONS_PER_KEY: '3' });
    const results = await Promise.all(Array.from({ length: 60 }, () => pool.exec(target(), 'sleep 3')));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    expect(fake.connectAttempts).toBeLessThanOrEqual(3);
    expect(Math.max(...fake.connections.map((c) => c.peakSessions))).toBe(2);
    const limits = pool.getConnections().map((c) => c.channelLimit);
    expect(limits).not.toHaveLength(0);
    expect(limits).toEqual(limits.map(() => 2));
    expect(pool.getStats().channel_open_refusals).toBeGreaterThan(0);
  });

  it('keeps the real limit when sshd frees closed sessions late (a busy host)', async () => {
    fake.maxSessions = 3;
    fake.freeLagMs = 30; // measured above 10 ms on a loaded host
    await start({ POOL_MAX_CONNECTIONS_PER_KEY: '2' });
    for (let run = 1; run <= 5; run++) {
      const results = await Promise.all(Array.from({ length: 15 }, (_, i) => pool.exec(target(), `sleep ${10 + (i % 4) * 15}`)));
      expect(results.every((r) => r.exitCode === 0)).toBe(true);
      const limits = pool.getConnections().map((c) => c.channelLimit);
      expect({ run, limits }).toEqual({ run, limits: [3, 3] });
    }
    expect(pool.getStats().channel_open_refusals).toBeGreaterThan(0); // the late frees did cause refusals
  });

  it('probes a lowered limit upward and settles at the server\'s real one', async () => {
    fake.maxSessions = 2;
    await start({ POOL_MAX_CONNECTIONS_PER_KEY: '1' });
    const burst = () => Promise.all(Array.from({ length: 6 }, () => pool.exec(target(), 'sleep 5')));
    await burst();
    expect(pool.getConnections()).toMatchObject([{ channelLimit: 2 }]);
    for (let i = 0; i < 8; i++) await burst(); // tries of a third slot are refused and undone
    expect(pool.getConnections()).toMatchObject([{ channelLimit: 2 }]);
    const refusals = pool.getStats().channel_open_refusals;
    fake.maxSessions = 3; // e.g. a refusal under load had under-learned it
    for (let i = 0; i < 20; i++) await burst();
    // Each refused try of a slot above the limit doubles the wait before the next: few refusals.
    expect(pool.getStats().channel_open_refusals - refusals).toBeLessThanOrEqual(4);
    expect(pool.getConnections()).toMatchObject([{ channelLimit: 3 }]);
    expect(fake.connections[0].peakSessions).toBe(3);
  });

  it('retires a connection whose server never confirms a channel close, once its other commands end', async () => {
    await start({ SSH_KEEPALIVE_INTERVAL_MS: '100', SSH_KEEPALIVE_COUNT_MAX: '2' }); // close bound 200 ms
    const other = pool.exec(target(), 'sleep 400');
    await expect(pool.exec(target(), 'stuck', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    expect(pool.getConnections()).toMatchObject([{ retiring: false, channelsInUse: 2 }]);
    await new Promise((r) => setTimeout(r, 250));
    expect(pool.getConnections()).toMatchObject([{ retiring: true }]);
    await expect(pool.exec(target(), 'echo fresh')).resolves.toMatchObject({ stdout: 'fresh\n' });
    expect(fake.connectAttempts).toBe(2);
    await expect(other).resolves.toMatchObject({ exitCode: 0 });
    await new Promise((r) => setTimeout(r, 10));
    expect(fake.connections[0].closed).toBe(true);
    expect(pool.getStats()).toMatchObject({ total_connections: 1, channels_in_use: 0, evictions: { stuck: 1 } });
  });

  it('fails every waiter of a rejected credential after one attempt and does not retry in a loop', async () => {
    fake.failWith = new SshPoolError(SshPoolErrorCode.AUTH_FAILED, 'authentication failed');
    await start();
    const attempts = await Promise.allSettled(Array.from({ length: 5 }, () => pool.exec(target(), 'echo x')));
    expect(attempts.map((a) => a.status === 'rejected' && (a.reason as SshPoolError).code)).toEqual(Array(5).fill('SSH_AUTH_FAILED'));
    await expect(pool.exec(target(), 'echo x')).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' });
    expect(fake.connectAttempts).toBe(1);
    fake.failWith = undefined;
    await pool.reconnect(target());
    await expect(pool.exec(target(), 'echo ok')).resolves.toMatchObject({ stdout: 'ok\n' });
    expect(fake.connectAttempts).toBe(2);
  });

  it('backs off an unreachable host and fails fast with SSH_HOST_DOWN', async () => {
    fake.failWith = new SshPoolError(SshPoolErrorCode.UNREACHABLE, 'cannot reach');
    await start();
    await expect(pool.exec(target(), 'echo x')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    await expect(pool.exec(target(), 'echo x')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    await expect(pool.exec(target({ username: 'other' }), 'echo x')).rejects.toMatchObject({ code: 'SSH_HOST_DOWN' });
    expect(fake.connectAttempts).toBe(2);
  });

  it('times out a command, kills it, and keeps the shared connection serving others', async () => {
    await start();
    await expect(pool.exec(target(), 'hang', { timeoutMs: 50 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    expect(fake.killed).toEqual(['KILL:hang']);
    await expect(pool.exec(target(), 'echo after')).resolves.toMatchObject({ stdout: 'after\n' });
    expect(fake.connectAttempts).toBe(1);
    expect(pool.getStats()).toMatchObject({ total_connections: 1, channels_in_use: 0 });
  });

  it('recycles a connection past its lifetime without cutting its running command', async () => {
    await start();
    const long = pool.exec(target(), 'sleep 200');
    await new Promise((r) => setTimeout(r, 30));
    expect(await pool.cleanup(Date.now() + 3_601_000)).toBe(0);
    await expect(pool.exec(target(), 'echo new')).resolves.toMatchObject({ exitCode: 0 });
    expect(fake.connectAttempts).toBe(2);
    await expect(long).resolves.toMatchObject({ exitCode: 0 });
    expect(fake.connections[0].closed).toBe(true);
    expect(pool.getStats()).toMatchObject({ total_connections: 1, evictions: { lifetime: 1 } });
  });

  it('closes idle connections on cleanup and reports how many', async () => {
    await start();
    await pool.exec(target(), 'echo 1');
    await pool.exec(target({ host: 'other-host' }), 'echo 2');
    expect(await pool.cleanup(Date.now() + 1000)).toBe(0);
    expect(await pool.cleanup(Date.now() + 301_000)).toBe(2);
    expect(fake.openConnections).toBe(0);
    expect(pool.getStats()).toMatchObject({ total_connections: 0, evictions: { idle: 2 } });
  });

  it("describes a target's shared connections without exposing its secret", async () => {
    await start();
    await pool.exec(target({ serverId: 'a' }), 'echo 1');
    const info = pool.getConnectionsFor(target({ serverId: 'b' }));
    expect(info).toMatchObject({ key: expect.stringMatching(/^cs2@game-host:22\/PASSWORD#[0-9a-f]{12}$/), hostDown: false, connections: [{ serverIds: ['a'], channelsInUse: 0 }] });
    expect(JSON.stringify(info)).not.toContain('pw-1');
    expect(pool.getConnectionsFor(target({ auth: { type: 'PASSWORD', password: 'other' } })).connections).toEqual([]);
  });

  it('caps output and says so', async () => {
    await start({ SSH_MAX_OUTPUT_BYTES: '4096' });
    const result = await pool.exec(target(), 'big 100000');
    expect(result).toMatchObject({ truncated: true, exitCode: 0 });
    expect(result.stdout).toHaveLength(4096);
  });

  it('takes a detached server off its connection and closes a connection nobody uses', async () => {
    await start();
    await pool.exec(target({ serverId: 'a' }), 'echo 1');
    await pool.exec(target({ serverId: 'b' }), 'echo 2');
    await pool.detachServer('a');
    expect(pool.getConnections()).toMatchObject([{ serverIds: ['b'] }]);
    await pool.detachServer('b');
    expect(pool.getConnections()).toEqual([]);
    expect(fake.openConnections).toBe(0);
  });

  it('opens and closes a connection per command when the pool is disabled', async () => {
    await start({ SSH_POOL_ENABLED: 'false' });
    for (let i = 0; i < 3; i++) await pool.exec(target(), `echo ${i}`);
    expect(fake.connectAttempts).toBe(3);
    expect(fake.openConnections).toBe(0);
    expect(pool.getStats().total_connections).toBe(0);
  });

  it('on shutdown finishes running commands, refuses new ones, and closes every connection', async () => {
    await start();
    const running = pool.exec(target(), 'sleep 100');
    await new Promise((r) => setTimeout(r, 20));
    const closing = app.close();
    while (!pool.isShuttingDown()) await new Promise((r) => setImmediate(r));
    await expect(pool.exec(target(), 'echo late')).rejects.toMatchObject({ code: 'POOL_SHUTTING_DOWN' });
    await expect(running).resolves.toMatchObject({ exitCode: 0 });
    await closing;
    expect(fake.openConnections).toBe(0);
  });
});
