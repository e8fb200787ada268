import type { INestApplication } from '@nestjs/common';
import { FakeConnector, fakeTarget } from '../../test/fakes/fake-connector.js';
import { eventually } from '../../test/support/eventually.js';
import { createPool } from '../../test/support/pool-module.js';
import { parsePrometheusText, sampleValue } from '../../test/support/prometheus-text.js';
import { SshPoolError, SshPoolErrorCode } from '../ssh-pool/ssh-pool.errors.js';
import type { SshPoolService } from '../ssh-pool/ssh-pool.service.js';
import { MetricsService } from './metrics.service.js';

const P = 'cs2_ssh_pool_';
const target = fakeTarget();

describe('pool metrics (fake connector)', () => {
  let fake: FakeConnector;
  let app: INestApplication;
  let pool: SshPoolService;
  let metrics: MetricsService;

  const scrape = async () => parsePrometheusText(await metrics.scrape());

  beforeEach(async () => {
    fake = new FakeConnector();
    ({ app, pool } = await createPool({}, fake));
    metrics = new MetricsService(pool);
  });
  afterEach(async () => {
    await app?.close();
  });

  it('counts a host as backing off after repeated unreachable connects, until reconnect clears it', async () => {
    fake.failWith = new SshPoolError(SshPoolErrorCode.UNREACHABLE, 'connection refused');
    await expect(pool.exec(target, 'echo 1')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    await expect(pool.exec(target, 'echo 2')).rejects.toMatchObject({ code: 'SSH_UNREACHABLE' });
    // The window after two failures is at least 500 ms; this read is in the same tick as the failure.
    const down = await scrape();
    expect(sampleValue(down, `${P}hosts_backing_off`)).toBe(1);
    expect(sampleValue(down, `${P}connect_failures_total`, { reason: 'SSH_UNREACHABLE' })).toBe(2);
    fake.failWith = undefined;
    await pool.reconnect(target);
    const up = await scrape();
    expect(sampleValue(up, `${P}hosts_backing_off`)).toBe(0);
    expect(sampleValue(up, `${P}connects_total`)).toBe(1);
    expect(sampleValue(up, `${P}connect_duration_seconds_count`, { outcome: 'success' })).toBe(1);
    expect(sampleValue(up, `${P}connect_duration_seconds_count`, { outcome: 'failure' })).toBe(2);
  });

  it('labels a rejected credential by its code and does not count it as a backing-off host', async () => {
    fake.failWith = new SshPoolError(SshPoolErrorCode.AUTH_FAILED, 'denied');
    await expect(pool.exec(target, 'echo 1')).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' });
    const families = await scrape();
    expect(sampleValue(families, `${P}connect_failures_total`, { reason: 'SSH_AUTH_FAILED' })).toBe(1);
    expect(sampleValue(families, `${P}exec_duration_seconds_count`, { outcome: 'SSH_AUTH_FAILED' })).toBe(1);
    expect(sampleValue(families, `${P}hosts_backing_off`)).toBe(0);
  });

  it('shows a connection closed while busy as retiring until its command ends, then as a "closed" eviction', async () => {
    await pool.exec(target, 'echo warm');
    const running = pool.exec(target, 'sleep 200');
    await eventually('the command to hold a channel', () => pool.getStats().channels_in_use === 1);
    expect(await pool.closeAll()).toEqual({ closed: 1, retiring: 1 });
    const during = await scrape();
    expect(['idle', 'busy', 'retiring'].map((state) => sampleValue(during, `${P}connections`, { state }))).toEqual([0, 0, 1]);
    expect(sampleValue(during, `${P}evictions_total`, { reason: 'closed' })).toBe(0);
    await expect(running).resolves.toMatchObject({ exitCode: 0 });
    const after = await scrape();
    expect(['idle', 'busy', 'retiring'].map((state) => sampleValue(after, `${P}connections`, { state }))).toEqual([0, 0, 0]);
    expect(sampleValue(after, `${P}evictions_total`, { reason: 'closed' })).toBe(1);
    expect(sampleValue(after, `${P}exec_duration_seconds_count`, { outcome: 'ok' })).toBe(2);
  });
});
