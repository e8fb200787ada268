import { createServer, type Socket } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createPool } from '../support/pool-module.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { eventually } from '../support/eventually.js';
import { remoteProcesses } from '../support/remote-processes.js';
import { targetOn } from '../support/targets.js';
import { SPARE_MODES } from './spare-modes.js';

describe.each(SPARE_MODES)('SSH pool against real sshd: failures (SSH_SPARE_CHANNELS=%s)', (spares) => {
  let user: TestUser;
  let host: SshdHost;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeAll(async () => {
    user = loadTestUser();
    host = await startSshd({ address: '127.0.0.4' });
  });
  afterAll(async () => {
    await host?.stop();
  });
  afterEach(async () => {
    host.thaw();
    await app?.close();
    app = undefined;
  });

  it('kills the remote process group on timeout and keeps the connection serving others', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const target = targetOn(host, user);
    const marker = `sleep 4242${process.pid}`;
    await pool.exec(target, 'true'); // connected: the command's timeout is all its own
    const timedOut = expect(pool.exec(target, `${marker} & ${marker}; echo never`, { timeoutMs: 3000 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    // First see both sleeps run, so that "gone" below is about them and not about a search that finds nothing.
    await eventually('both remote sleeps to run', () => remoteProcesses(user, marker) >= 2, 10_000);
    await timedOut;
    await eventually('remote sleeps to die', () => remoteProcesses(user, marker) === 0, 5000);
    await expect(pool.exec(target, 'echo alive')).resolves.toMatchObject({ stdout: 'alive\n' });
    expect(pool.getStats()).toMatchObject({ total_connections: 1, connects: 1 });
  });

  // Once the pool has seen the close, its spare went with it: the command runs once, on a fresh connection.
  // (Sent before the close arrived, a spare's exec request would be SSH_OUTCOME_UNKNOWN: see pool-at-most-once.)
  it('replaces a connection whose server side was killed, without an error, and runs the command once', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const target = targetOn(host, user);
    await pool.exec(target, 'true');
    const before = host.acceptedAuths();
    const sessions = host.sessionsStarted();
    host.killConnections();
    await eventually('the pool to see the connection close', () => pool.getStats().evictions.dead === 1);
    await expect(pool.exec(target, 'echo fresh')).resolves.toMatchObject({ stdout: 'fresh\n' });
    expect(host.acceptedAuths() - before).toBe(1);
    expect(host.sessionsStarted() - sessions).toBe(1);
  });

  // The timeout comes well before keepalive gives up (2/3 to 1 s after the freeze); keepalive first
  // would answer SSH_OUTCOME_UNKNOWN (pool-at-most-once).
  it('finds a frozen peer by keepalive; commands on it time out instead of hanging', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, SSH_KEEPALIVE_INTERVAL_MS: '500', SSH_KEEPALIVE_COUNT_MAX: '2' }));
    const target = targetOn(host, user);
    await pool.exec(target, 'true');
    host.freeze();
    await expect(pool.exec(target, 'echo frozen', { timeoutMs: 300 })).rejects.toMatchObject({ code: 'EXEC_TIMEOUT' });
    await eventually('keepalive to evict the frozen connection', () => pool.getStats().evictions.dead === 1, 5000);
    expect(pool.getStats().total_connections).toBe(0);
    host.thaw();
    await expect(pool.exec(target, 'echo thawed')).resolves.toMatchObject({ stdout: 'thawed\n' });
  });

  it('refuses a changed host key before any command runs', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const target = targetOn(host, user);
    await pool.exec(target, 'true');
    await host.rotateHostKey();
    await pool.closeAll();
    const authsBefore = host.acceptedAuths();
    const sessionsBefore = host.sessionsStarted();
    await expect(pool.exec(target, 'touch /tmp/should-not-exist')).rejects.toMatchObject({ code: 'SSH_HOST_KEY_MISMATCH' });
    expect(host.acceptedAuths()).toBe(authsBefore);
    expect(host.sessionsStarted()).toBe(sessionsBefore);
    const pinned = targetOn(host, user, { hostKeyFingerprint: host.hostKeyFingerprint() });
    await expect(pool.exec(pinned, 'echo pinned')).resolves.toMatchObject({ stdout: 'pinned\n' });
  });

  it('a host that never answers the handshake delays no other host, then times out', async () => {
    const held: Socket[] = [];
    const silent = createServer((socket) => held.push(socket)); // accepts TCP, never speaks SSH
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.10', resolve));
    try {
      // A wide window: the other host's command must finish while this handshake still waits, even on a loaded machine.
      ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, SSH_READY_TIMEOUT_MS: '10000' }));
      const address = silent.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      let silentSettled = false;
      const stuck = pool.exec({ ...targetOn(host, user), host: '127.0.0.10', port }, 'true').finally(() => (silentSettled = true));
      await expect(pool.exec(targetOn(host, user), 'echo unaffected')).resolves.toMatchObject({ stdout: 'unaffected\n' });
      expect(silentSettled).toBe(false);
      await expect(stuck).rejects.toMatchObject({ code: 'SSH_CONNECT_TIMEOUT' });
    } finally {
      held.forEach((socket) => socket.destroy());
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('reports an unreachable host, then backs off with SSH_HOST_DOWN', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const nobody = { ...targetOn(host, user), host: '127.0.0.9', port: await freePort('127.0.0.9') };
    await expect(pool.exec(nobody, 'true')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    await expect(pool.exec(nobody, 'true')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    await expect(pool.exec(nobody, 'true')).rejects.toMatchObject({ code: 'SSH_HOST_DOWN' });
    expect(pool.getStats().connect_failures).toBe(2);
    await expect(pool.exec(targetOn(host, user), 'true')).resolves.toMatchObject({ exitCode: 0 });
  });
});
