import { rmSync, writeFileSync } from 'node:fs';
import { MetricsService } from '../../src/metrics/metrics.service.js';
import { REOPEN_DELAY_MS } from '../../src/ssh-pool/connection-group.js';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { parsePrometheusText, sampleValue, type Family } from '../support/prometheus-text.js';
import { remoteScratchPath, sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

const P = 'cs2_ssh_pool_';
const EXEC_ROUTE = { method: 'POST', route: '/api/servers/:id/exec', status_code: '200' };

/** Every family the issue asks for, with its type. */
const EXPECTED_FAMILIES: [name: string, type: Family['type']][] = [
  [`${P}connections`, 'gauge'],
  [`${P}channels_in_use`, 'gauge'],
  [`${P}waiters`, 'gauge'],
  [`${P}connects_in_progress`, 'gauge'],
  [`${P}hosts_backing_off`, 'gauge'],
  [`${P}connects_total`, 'counter'],
  [`${P}connect_failures_total`, 'counter'],
  [`${P}channel_open_refusals_total`, 'counter'],
  [`${P}acquisitions_total`, 'counter'],
  [`${P}evictions_total`, 'counter'],
  [`${P}connect_duration_seconds`, 'histogram'],
  [`${P}exec_duration_seconds`, 'histogram'],
  [`${P}status_probe_duration_seconds`, 'histogram'],
  [`${P}http_request_duration_seconds`, 'histogram'],
  ['process_cpu_user_seconds_total', 'counter'],
  ['nodejs_eventloop_lag_seconds', 'gauge'],
];

describe('GET /metrics (Prometheus) against real sshd', () => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;
  let pool: SshPoolService;

  const scrape = async (app: TestApp = t): Promise<Map<string, Family>> => {
    const res = await app.http.get('/metrics').expect(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheusText(res.text);
  };
  const createServer = async (overrides: Record<string, unknown> = {}): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(sshd, user, overrides)).expect(201)).body.id;
  const exec = (id: string, command: string) => t.api.post(`/api/servers/${id}/exec`).send({ command });

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase('sqlite');
    sshd = await startSshd({ address: '127.0.0.21', maxSessions: 1 });
    t = await createTestApp({ DATABASE_URL: db.url });
    pool = t.app.get(SshPoolService);
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('serves every family without a token while /api still needs one', async () => {
    const families = await scrape();
    for (const [name, type] of EXPECTED_FAMILIES) expect({ name, type: families.get(name)?.type }).toEqual({ name, type });
    const unauthorized = await t.http.get('/api/servers').expect(401);
    expect(unauthorized.body).toEqual(errorBody(401, 'UNAUTHORIZED'));
    const states = families.get(`${P}connections`)?.samples.map((s) => s.labels.state).sort();
    expect(states).toEqual(['busy', 'idle', 'retiring']);
  });

  it('counts commands, hits and misses, connects (as sshd saw them) and exec requests by route template', async () => {
    const id = await createServer();
    const before = await scrape();
    const authsBefore = sshd.acceptedAuths();
    for (const command of ['echo one', 'echo two', 'echo three']) {
      await exec(id, command).expect(200);
      // A freed slot is handed out again REOPEN_DELAY_MS after its close: a request sent sooner waits, a miss.
      await eventually('the channel to close', () => pool.getStats().channels_in_use === 0);
      await new Promise((resolve) => setTimeout(resolve, REOPEN_DELAY_MS * 5));
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sampleValue(after, name, labels) - sampleValue(before, name, labels);

    // Usually one connect; a second one when sshd (MaxSessions 1) had not freed the last session yet.
    const auths = sshd.acceptedAuths() - authsBefore;
    expect(auths).toBeGreaterThanOrEqual(1);
    expect(delta(`${P}connects_total`)).toBe(auths);
    expect(delta(`${P}connect_duration_seconds_count`, { outcome: 'success' })).toBe(auths);
    expect(delta(`${P}connect_duration_seconds_sum`, { outcome: 'success' })).toBeGreaterThan(0);
    expect(delta(`${P}exec_duration_seconds_count`, { outcome: 'ok' })).toBe(3);
    // Each connect served the command that needed it (a miss); the other commands reused one (hits).
    expect({ misses: delta(`${P}acquisitions_total`, { result: 'miss' }), hits: delta(`${P}acquisitions_total`, { result: 'hit' }) }).toEqual({
      misses: auths,
      hits: 3 - auths,
    });
    expect(delta(`${P}http_request_duration_seconds_count`, EXEC_ROUTE)).toBe(3);
    await eventually('the last channel to close', () => pool.getStats().channels_in_use === 0);
    expect(sampleValue(await scrape(), `${P}connections`, { state: 'idle' })).toBe(auths);
    // Labels carry templates, never the id in the path nor the command.
    const text = (await t.http.get('/metrics').expect(200)).text;
    expect(text).not.toContain(id);
    expect(text).not.toContain('echo one');
  });

  it('shows running commands as busy connections and channels in use, and counts refused opens', async () => {
    // Its own key (key auth): a fresh connection group that has not learned sshd's limit yet.
    const id = await createServer({ authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: user.privateKey });
    const refusalsBefore = sampleValue(await scrape(), `${P}channel_open_refusals_total`);
    const sessionsBefore = sshd.sessionsStarted();
    const gate = remoteScratchPath('gate');
    const held = `while [ ! -e ${gate} ]; do sleep 0.05; done`;
    // sshd allows one session per connection: the second command's open on the shared connection is refused.
    const running = Promise.all([exec(id, held).expect(200), exec(id, held).expect(200)]);
    try {
      await sshd.waitFor(() => sshd.sessionsStarted() - sessionsBefore === 2, 10_000);
      const during = await scrape();
      expect(sampleValue(during, `${P}connections`, { state: 'busy' })).toBe(2);
      expect(sampleValue(during, `${P}channels_in_use`)).toBe(2);
      expect(sampleValue(during, `${P}channel_open_refusals_total`) - refusalsBefore).toBeGreaterThanOrEqual(1);
    } finally {
      writeFileSync(gate, '');
      await running;
      rmSync(gate, { force: true });
    }
    await eventually('the channels to close', () => pool.getStats().channels_in_use === 0);
    const after = await scrape();
    expect(sampleValue(after, `${P}channels_in_use`)).toBe(0);
    expect(sampleValue(after, `${P}connections`, { state: 'busy' })).toBe(0);
  });

  it('counts evictions by reason after close-all and after the cleanup tick', async () => {
    const id = await createServer();
    await exec(id, 'true').expect(200);
    const before = await scrape();
    const { closed } = await pool.closeAll();
    expect(closed).toBeGreaterThanOrEqual(1);
    // A connection whose last channel close the server has not confirmed yet closes a moment later.
    await eventually('retired connections to close', () => pool.getStats().total_connections === 0);
    const afterClose = await scrape();
    expect(sampleValue(afterClose, `${P}evictions_total`, { reason: 'closed' }) - sampleValue(before, `${P}evictions_total`, { reason: 'closed' })).toBe(closed);
    expect(sampleValue(afterClose, `${P}connections`, { state: 'idle' })).toBe(0);

    await exec(id, 'true').expect(200);
    await eventually('the channel to close', () => pool.getStats().channels_in_use === 0);
    expect(await pool.cleanup(Date.now() + 24 * 3600_000)).toBe(1);
    const afterCleanup = await scrape();
    expect(sampleValue(afterCleanup, `${P}evictions_total`, { reason: 'lifetime' }) - sampleValue(afterClose, `${P}evictions_total`, { reason: 'lifetime' })).toBe(1);
  });

  it('counts connect failures by reason and the failed requests by route and status', async () => {
    const id = await createServer({ host: '127.0.0.22', sshPort: await freePort('127.0.0.22') });
    const before = await scrape();
    for (const code of ['SSH_UNREACHABLE', 'SSH_UNREACHABLE', 'SSH_HOST_DOWN']) {
      expect((await exec(id, 'true')).body).toMatchObject({ code });
    }
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sampleValue(after, name, labels) - sampleValue(before, name, labels);
    expect(delta(`${P}connect_failures_total`, { reason: 'SSH_UNREACHABLE' })).toBe(2);
    expect(delta(`${P}connect_duration_seconds_count`, { outcome: 'failure' })).toBe(2);
    expect(delta(`${P}exec_duration_seconds_count`, { outcome: 'SSH_UNREACHABLE' })).toBe(2);
    expect(delta(`${P}exec_duration_seconds_count`, { outcome: 'SSH_HOST_DOWN' })).toBe(1);
    expect(delta(`${P}http_request_duration_seconds_count`, { ...EXEC_ROUTE, status_code: '502' })).toBe(2);
    expect(delta(`${P}http_request_duration_seconds_count`, { ...EXEC_ROUTE, status_code: '503' })).toBe(1);
  });

  it('labels unknown paths as one "unmatched" route and keeps ids of matched routes out', async () => {
    const missing = '0b6c7e2a-1111-4222-8333-944455556666';
    const before = await scrape();
    await t.api.get(`/api/servers/${missing}`).expect(404);
    await t.api.get(`/api/no-such-route/${missing}`).expect(404);
    await t.http.get(`/api/servers/${missing}`).expect(401);
    const after = await scrape();
    const delta = (labels: Record<string, string>) =>
      sampleValue(after, `${P}http_request_duration_seconds_count`, labels) - sampleValue(before, `${P}http_request_duration_seconds_count`, labels);
    expect(delta({ method: 'GET', route: '/api/servers/:id', status_code: '404' })).toBe(1);
    expect(delta({ method: 'GET', route: '/api/servers/:id', status_code: '401' })).toBe(1);
    expect(delta({ method: 'GET', route: 'unmatched', status_code: '404' })).toBe(1);
    expect((await t.http.get('/metrics')).text).not.toContain(missing);
  });

  it('times status probes through MetricsService.observeStatusProbe', async () => {
    const metrics = t.app.get(MetricsService);
    const before = await scrape();
    metrics.observeStatusProbe(0.2);
    metrics.observeStatusProbe(3, 'error');
    const after = await scrape();
    const delta = (name: string, outcome: string) => sampleValue(after, name, { outcome }) - sampleValue(before, name, { outcome });
    expect(delta(`${P}status_probe_duration_seconds_count`, 'ok')).toBe(1);
    expect(delta(`${P}status_probe_duration_seconds_count`, 'error')).toBe(1);
    expect(delta(`${P}status_probe_duration_seconds_sum`, 'error')).toBeCloseTo(3);
    expect(sampleValue(after, `${P}status_probe_duration_seconds_bucket`, { outcome: 'ok', le: '0.1' })).toBe(0);
    expect(sampleValue(after, `${P}status_probe_duration_seconds_bucket`, { outcome: 'ok', le: '0.25' })).toBe(1);
  });

  it('gives a second app in the same process its own registry', async () => {
    const second = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
    try {
      const families = await scrape(second);
      expect(sampleValue(families, `${P}exec_duration_seconds_count`, { outcome: 'ok' })).toBe(0);
      expect(sampleValue(families, `${P}acquisitions_total`, { result: 'miss' })).toBe(0);
      expect(sampleValue(await scrape(), `${P}exec_duration_seconds_count`, { outcome: 'ok' })).toBeGreaterThan(0);
    } finally {
      await second.close();
    }
  });
});
