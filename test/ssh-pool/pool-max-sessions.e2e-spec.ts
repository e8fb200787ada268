import type { INestApplication } from '@nestjs/common';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import type { SshTarget } from '../../src/ssh-pool/ssh-pool.types.js';
import { hogEventLoop } from '../support/busy-cpu.js';
import { startBatchingProxy, startLatencyProxy, type TestProxy } from '../support/latency-proxy.js';
import { createPool } from '../support/pool-module.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { targetOn } from '../support/targets.js';
import { SPARE_MODES } from './spare-modes.js';

const RUNS = 5;
const MAX_CONNECTIONS = 4;

// MaxSessions learning against real sshd, where a closed session is freed a loop turn late: on a
// busy host and over a slow link, every connection must still end at sshd's real limit, every run.
const CASES = [3, 2].flatMap((maxSessions) => SPARE_MODES.map((spares) => [maxSessions, spares] as const));

describe.each(CASES)('SSH pool against real sshd: MaxSessions %i is learned exactly (SSH_SPARE_CHANNELS=%s)', (maxSessions, spares) => {
  let user: TestUser;
  let sshd: SshdHost;
  let proxy: TestProxy;
  let loaded: TestProxy;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: `127.0.0.1${maxSessions}`, maxSessions });
    proxy = await startLatencyProxy({ host: sshd.host, port: sshd.port }, 10);
    loaded = await startBatchingProxy({ host: sshd.host, port: sshd.port }, 30);
  });
  afterAll(async () => {
    await proxy?.close();
    await loaded?.close();
    await sshd?.stop();
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Bursts that outnumber every channel, of commands that end at different times while others open. */
  async function bursts(target: SshTarget): Promise<void> {
    const size = maxSessions * MAX_CONNECTIONS * 2 + 3;
    const sessionsBefore = sshd.sessionsStarted();
    // With spares on, the connector's feature test (`exit 7`) runs once, on the pool's first connection.
    const featureTest = spares === 'true' ? 1 : 0;
    for (let run = 1; run <= RUNS; run++) {
      const results = await Promise.all(
        Array.from({ length: size }, (_, i) => pool.exec(target, `sleep 0.${1 + (i % 4)}; echo ${i}`, { timeoutMs: 30_000 })),
      );
      expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: size }, (_, i) => `${i}\n`));
      // Counted at sshd: every command started exactly once, none failed.
      await sshd.waitFor(() => sshd.sessionsStarted() - sessionsBefore === size * run + featureTest);
      const limits = pool.getConnections().map((c) => c.channelLimit);
      expect({ run, connections: limits.length > 0, limits }).toEqual({ run, connections: true, limits: limits.map(() => maxSessions) });
    }
  }

  it('on loopback with the pool’s event loop kept busy', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, POOL_MAX_CONNECTIONS_PER_KEY: String(MAX_CONNECTIONS) }));
    const busy = hogEventLoop();
    try {
      await bursts(targetOn(sshd, user));
    } finally {
      busy.stop();
    }
  }, 90_000);

  it('through a link with 20 ms round trips', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, POOL_MAX_CONNECTIONS_PER_KEY: String(MAX_CONNECTIONS) }));
    await bursts(targetOn(sshd, user, { host: '127.0.0.1', port: proxy.port }));
  }, 90_000);

  it('when sshd reads its socket only every 30 ms, so closed sessions are freed late', async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, POOL_MAX_CONNECTIONS_PER_KEY: String(MAX_CONNECTIONS) }));
    await bursts(targetOn(sshd, user, { host: '127.0.0.1', port: loaded.port }));
    expect(pool.getStats().channel_open_refusals).toBeGreaterThan(0); // late frees did refuse opens
  }, 90_000);
});
