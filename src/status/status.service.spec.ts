import { jest } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { validateConfig } from '../config/configuration.js';
import type { MetricsService } from '../metrics/metrics.service.js';
import type { ServerEntity } from '../servers/server.entity.js';
import type { ServersService, ServerWithTarget } from '../servers/servers.service.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import type { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import type { ExecOptions, SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { StatusService } from './status.service.js';

const TIMEOUT_MS = 1000;

/** Hosts that never answer: each exec ends with EXEC_TIMEOUT when its own timeout runs out, as the pool's does. */
class FrozenPool {
  execs = 0;
  exec(_target: SshTarget, _command: string, options: ExecOptions): Promise<never> {
    this.execs++;
    return new Promise((_, reject) => setTimeout(() => reject(new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, 'timed out')), options.timeoutMs));
  }
}

function hosts(count: number): ServerWithTarget[] {
  return Array.from({ length: count }, (_, i) => ({
    server: { id: `id-${i}`, gameDirectory: `/srv/cs2-${i}`, gamePort: 27015 } as ServerEntity,
    target: { host: `10.0.0.${i + 1}`, port: 22, username: 'cs2', auth: { type: 'PASSWORD', password: 'pw' } } as SshTarget,
  }));
}

describe('StatusService sweep bound', () => {
  beforeAll(() => Logger.overrideLogger(false));
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('answers a sweep of more frozen hosts than probe slots within STATUS_PROBE_TIMEOUT_MS, queue wait included', async () => {
    const config = validateConfig({ STATUS_PROBE_CONCURRENCY: '8', STATUS_PROBE_TIMEOUT_MS: String(TIMEOUT_MS), STATUS_CACHE_MS: '0' });
    const entries = hosts(9);
    const pool = new FrozenPool();
    const service = new StatusService(
      new ConfigService(config),
      { listWithTargets: async () => entries } as unknown as ServersService,
      pool as unknown as SshPoolService,
      { observeStatusProbe: () => undefined } as unknown as MetricsService,
    );
    let answer: Awaited<ReturnType<StatusService['getAll']>> | undefined;
    const sweep = service.getAll().then((statuses) => (answer = statuses));

    await jest.advanceTimersByTimeAsync(TIMEOUT_MS);
    expect(answer?.map((s) => s.error)).toEqual(entries.map(() => 'EXEC_TIMEOUT'));
    expect(pool.execs).toBe(8); // the ninth never got a slot: it was not started late
    await sweep;
  });
});
