import type { INestApplication } from '@nestjs/common';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createPool } from '../support/pool-module.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { eventually } from '../support/eventually.js';
import { targetOn } from '../support/targets.js';
import { SPARE_MODES } from './spare-modes.js';

describe.each(SPARE_MODES)('SSH pool against real sshd: lifecycle (SSH_SPARE_CHANNELS=%s)', (spares) => {
  let user: TestUser;
  let first: SshdHost;
  let second: SshdHost;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeAll(async () => {
    user = loadTestUser();
    [first, second] = await Promise.all([startSshd({ address: '127.0.0.5' }), startSshd({ address: '127.0.0.6', maxSessions: 2 })]);
  });
  afterAll(async () => {
    await Promise.all([first?.stop(), second?.stop()]);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('closes idle connections from the scheduled cleanup interval', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, POOL_IDLE_TIMEOUT_S: '1', POOL_CLEANUP_INTERVAL_S: '1' }));
    const disconnectsBefore = first.disconnects();
    await pool.exec(targetOn(first, user), 'true');
    await eventually('the interval to close the idle connection', () => pool.getStats().total_connections === 0, 5000);
    await first.waitFor(() => first.disconnects() === disconnectsBefore + 1);
    expect(pool.getStats().evictions.idle).toBe(1);
  });

  it('cleanup(now) closes only what is idle past the timeout', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    await pool.exec(targetOn(first, user), 'true');
    await pool.exec(targetOn(second, user), 'true');
    expect(await pool.cleanup(Date.now() + 299_000)).toBe(0);
    expect(await pool.cleanup(Date.now() + 301_000)).toBe(2);
    expect(pool.getStats()).toMatchObject({ total_connections: 0, evictions: { idle: 2 } });
  });

  it('recycles a connection past its lifetime without cutting a long command', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, POOL_MAX_LIFETIME_S: '1' }));
    const target = targetOn(first, user);
    const authsBefore = first.acceptedAuths();
    const disconnectsBefore = first.disconnects();
    const long = pool.exec(target, 'sleep 5; echo finished');
    // Past the 1 s lifetime counted from the connect (which, with spares, includes the feature test):
    // read from the connection itself, since a loaded machine may take long to connect.
    await eventually('the connection to pass its 1 s lifetime', () => {
      const [connection] = pool.getConnections();
      return connection !== undefined && Date.now() - Date.parse(connection.createdAt) > 1100;
    });
    await expect(pool.exec(target, 'echo on-new')).resolves.toMatchObject({ stdout: 'on-new\n' });
    expect(first.acceptedAuths() - authsBefore).toBe(2);
    expect(first.disconnects()).toBe(disconnectsBefore);
    await expect(long).resolves.toMatchObject({ exitCode: 0, stdout: 'finished\n' });
    await first.waitFor(() => first.disconnects() === disconnectsBefore + 1);
    expect(pool.getStats().evictions.lifetime).toBe(1);
  });

  it('with the pool disabled, authenticates once per command and leaves nothing open', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, SSH_POOL_ENABLED: 'false' }));
    const authsBefore = first.acceptedAuths();
    const disconnectsBefore = first.disconnects();
    for (let i = 0; i < 4; i++) await expect(pool.exec(targetOn(first, user), `echo ${i}`)).resolves.toMatchObject({ stdout: `${i}\n` });
    expect(first.acceptedAuths() - authsBefore).toBe(4);
    await first.waitFor(() => first.disconnects() === disconnectsBefore + 4);
    expect(pool.getStats().total_connections).toBe(0);
  });

  it('on shutdown lets a running command finish and closes every connection, as each server sees', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const before = [first.disconnects(), second.disconnects()];
    await Promise.all(Array.from({ length: 6 }, () => pool.exec(targetOn(second, user), 'sleep 0.2')));
    await pool.exec(targetOn(first, user), 'true');
    const running = pool.exec(targetOn(first, user), 'sleep 0.5; echo drained');
    const connections = pool.getStats().total_connections;
    expect(connections).toBeGreaterThanOrEqual(2);
    await app.close();
    app = undefined;
    await expect(running).resolves.toMatchObject({ stdout: 'drained\n' });
    await first.waitFor(() => first.disconnects() === before[0] + 1);
    await second.waitFor(() => second.disconnects() - before[1] === connections - 1);
    await expect(pool.exec(targetOn(first, user), 'true')).rejects.toMatchObject({ code: 'POOL_SHUTTING_DOWN' });
  });
});
