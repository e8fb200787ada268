// The pool's management API with a fake connector: the cases real sshd cannot stage cheaply.
import type { INestApplication } from '@nestjs/common';
import { SshPoolError, SshPoolErrorCode } from '../../src/ssh-pool/ssh-pool.errors.js';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { FakeConnector, fakeTarget } from '../fakes/fake-connector.js';
import { createPool } from '../support/pool-module.js';

const target = fakeTarget;

describe('SshPoolService management (fake connector)', () => {
  let fake: FakeConnector;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  const start = async (env: Record<string, string> = {}) => ({ app, pool } = await createPool(env, fake));

  beforeEach(() => {
    fake = new FakeConnector();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('a failed reconnect leaves the working connection in service', async () => {
    await start();
    await pool.exec(target(), 'echo 1');
    const [before] = pool.getConnections();
    fake.failWith = new SshPoolError(SshPoolErrorCode.UNREACHABLE, 'cannot reach');
    await expect(pool.reconnect(target())).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    fake.failWith = undefined;
    await expect(pool.exec(target(), 'echo 2')).resolves.toMatchObject({ stdout: '2\n' });
    expect(pool.getConnections()).toMatchObject([{ id: before.id, alive: true, retiring: false }]);
    expect(fake.openConnections).toBe(1);
  });

  it('counts what close-all and remove took out of service, and not twice', async () => {
    await start();
    await pool.exec(target({ serverId: 'a' }), 'echo 1');
    await pool.exec(target({ serverId: 'b', host: 'other-host' }), 'echo 2');
    await expect(pool.removeServerConnections('b')).resolves.toEqual({ closed: 1, retiring: 0 });
    await expect(pool.removeServerConnections('b')).resolves.toEqual({ closed: 0, retiring: 0 });
    await expect(pool.closeAll()).resolves.toEqual({ closed: 1, retiring: 0 });
    await expect(pool.closeAll()).resolves.toEqual({ closed: 0, retiring: 0 });
    expect(fake.openConnections).toBe(0);
    expect(pool.getStats().evictions).toMatchObject({ removed: 1, closed: 1 });
  });

  it('cleanup retires the connections of a key beyond POOL_MAX_CONNECTIONS_PER_KEY, the least busy first', async () => {
    await start({ POOL_MAX_CONNECTIONS_PER_KEY: '2' });
    await pool.exec(target(), 'echo 1');
    // Opened outside the queue's scaling rules, as a reconnect does: three connections for a cap of two.
    const group = pool['groups'].for(target());
    await group.connectNow();
    await group.connectNow();
    expect(fake.openConnections).toBe(3);
    await expect(pool.cleanup()).resolves.toBe(1);
    expect(fake.openConnections).toBe(2);
    await expect(pool.cleanup()).resolves.toBe(0);
  });

  it('with the pool disabled, reconnect proves a connection can be made and keeps none open', async () => {
    await start({ SSH_POOL_ENABLED: 'false' });
    await expect(pool.reconnect(target())).resolves.toMatchObject({ alive: false, key: expect.stringMatching(/^cs2@game-host:22\/PASSWORD#/) });
    expect(fake.connectAttempts).toBe(1);
    expect(fake.openConnections).toBe(0);
    expect(pool.getConnections()).toEqual([]);
  });
});
