import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { eventually } from '../../test/support/eventually.js';
import { createPool } from '../../test/support/pool-module.js';
import type { SshPoolService } from './ssh-pool.service.js';

const target = fakeTarget();

describe.each(['true', 'false'])('at most once (pool logic, fake connector, SSH_SPARE_CHANNELS=%s)', (spares) => {
  let fake: FakeConnector;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeEach(async () => {
    fake = new FakeConnector();
    fake.spares = true;
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }, fake));
    await pool.exec(target, 'echo warm');
    if (spares === 'true') await eventually('a spare to open', () => pool.getStats().spare_channels >= 1);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('never sends a command again when its connection died after the request reached the server', async () => {
    fake.loseConnectionOnExec = 1;
    await expect(pool.exec(target, 'echo once')).rejects.toMatchObject({ code: 'SSH_OUTCOME_UNKNOWN', message: expect.stringContaining('may have run') });
    expect(fake.ran).toEqual(['echo warm', 'echo once']);
    expect(fake.connectAttempts).toBe(1);
    await expect(pool.exec(target, 'echo next')).resolves.toMatchObject({ stdout: 'next\n' });
  });

  it('answers SSH_OUTCOME_UNKNOWN when the connection dies under a running command, and never runs it again', async () => {
    const running = pool.exec(target, 'hang');
    await eventually('the command to start', () => fake.ran.length === 2);
    fake.connections[0].close();
    await expect(running).rejects.toMatchObject({ code: 'SSH_OUTCOME_UNKNOWN' });
    expect(fake.ran).toEqual(['echo warm', 'hang']);
  });

  it('is the same without the pool: no retry there either', async () => {
    await app?.close();
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, SSH_POOL_ENABLED: 'false' }, fake));
    fake.loseConnectionOnExec = 1;
    await expect(pool.exec(target, 'echo unpooled')).rejects.toMatchObject({ code: 'SSH_OUTCOME_UNKNOWN' });
    expect(fake.ran.filter((c) => c === 'echo unpooled')).toHaveLength(1);
  });
});
