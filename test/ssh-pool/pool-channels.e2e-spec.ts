import type { INestApplication } from '@nestjs/common';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { eventually } from '../support/eventually.js';
import { createPool } from '../support/pool-module.js';
import { remoteProcesses } from '../support/remote-processes.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { targetOn } from '../support/targets.js';
import { SPARE_MODES } from './spare-modes.js';

// Channel lifetimes against real sshd: timeouts, stdin, background children, frozen peers.
describe.each(SPARE_MODES)('SSH pool against real sshd: channel lifetimes (SSH_SPARE_CHANNELS=%s)', (spares) => {
  let user: TestUser;
  let tight: SshdHost;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeAll(async () => {
    user = loadTestUser();
    tight = await startSshd({ address: '127.0.0.11', maxSessions: 3 });
  });
  afterAll(async () => {
    await tight?.stop();
  });
  afterEach(async () => {
    tight.thaw();
    await app?.close();
    app = undefined;
  });

  it('frees every channel slot after a timeout storm, and the key keeps working', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const target = targetOn(tight, user);
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, (_, i) => pool.exec(target, `sleep 1; echo ${i}`, { timeoutMs: 2500 })),
    );
    const timedOut = results.filter((r) => r.status === 'rejected');
    expect(timedOut.length).toBeGreaterThan(0); // the storm did outrun the channels
    expect(timedOut.every((r) => (r as PromiseRejectedResult).reason?.code === 'EXEC_TIMEOUT')).toBe(true);
    await eventually(() => `channels to free; still ${pool.getStats().channels_in_use} in use`, () => pool.getStats().channels_in_use === 0, 8000);
    await expect(pool.exec(target, 'echo after', { timeoutMs: 5000 })).resolves.toMatchObject({ exitCode: 0, stdout: 'after\n' });
  }, 30_000);

  it('closes stdin at once: `cat` ends instead of waiting for its timeout', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    // The bug held `cat` until the command's timeout: EXEC_TIMEOUT instead of an answer.
    await expect(pool.exec(targetOn(tight, user), 'cat; echo done', { timeoutMs: 8000 })).resolves.toMatchObject({ exitCode: 0, stdout: 'done\n' });
  });

  it('returns the exit status of a shell whose background child keeps its output open, leaving the child running', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
    const marker = `sleep 777${process.pid}`;
    // The bug answered EXEC_TIMEOUT after 8 s (the child held the output open); the marker sleeps far longer.
    const result = await pool.exec(targetOn(tight, user), `echo started; ${marker} & exit 0`, { timeoutMs: 8000 });
    expect(result).toMatchObject({ exitCode: 0, signal: null, stdout: 'started\n' });
    try {
      expect(remoteProcesses(user, marker)).toBe(1);
      // The slot is free only once sshd confirms the channel's close.
      await eventually('the channel to close on the server', () => pool.getStats().channels_in_use === 0, 5000);
      await expect(pool.exec(targetOn(tight, user), 'echo next')).resolves.toMatchObject({ stdout: 'next\n' });
    } finally {
      remoteProcesses(user, marker, 'SIGKILL');
    }
  });

  it('evicts a frozen peer by keepalive, not by a command or a cleanup', async () => {
    const intervalMs = 2000;
    const countMax = 1;
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, SSH_KEEPALIVE_INTERVAL_MS: String(intervalMs), SSH_KEEPALIVE_COUNT_MAX: String(countMax) }));
    await pool.exec(targetOn(tight, user), 'true');
    tight.freeze();
    // ssh2 gives up on the tick after countMax unanswered pings, (count + 1) × interval = 4 s here; the
    // deadline is generous for a loaded machine (how fast is a matter for bench/, not for this test).
    await eventually('keepalive to evict the frozen connection', () => pool.getStats().evictions.dead === 1, 20_000);
    expect(pool.getStats()).toMatchObject({ total_connections: 0, evictions: { dead: 1, idle: 0 } });
  }, 30_000);
});
