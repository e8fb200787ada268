import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, scratchDir, type TestDatabase } from '../support/databases.js';
import { ProbeFlights } from '../../src/status/probe-flights.js';
import { StatusService } from '../../src/status/status.service.js';
import { eventually } from '../support/eventually.js';
import { parsePrometheusText, sampleValue } from '../support/prometheus-text.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { FakeCs2Farm, type FakeCs2 } from './fake-cs2.js';

type Status = Record<string, unknown> & { serverId: string };

/**
 * Two sshd "hosts" on one machine see the same processes, so every server has its own directory.
 * Several servers are set up so that a substring or loose token matcher calls them running.
 */
describe('GET /api/server-status against real sshd', () => {
  let user: TestUser;
  let hostA: SshdHost;
  let hostB: SshdHost;
  let db: TestDatabase;
  let farm: FakeCs2Farm;
  let keyDir: string;
  let t: TestApp;
  const ids: Record<string, string> = {};
  // Shared by both apps of this spec, so that the second one can read the stored passwords.
  const CREDENTIALS_KEY = randomBytes(32).toString('base64');
  const fakes: Record<string, FakeCs2> = {};

  const sessions = () => ({ a: hostA.sessionsStarted(), b: hostB.sessionsStarted() });
  const sessionsSince = (before: { a: number; b: number }) => ({ a: hostA.sessionsStarted() - before.a, b: hostB.sessionsStarted() - before.b });
  /**
   * An app's first sweep: one probe per host, plus the connector's spare-channel feature test (`exit 7`)
   * on whichever host the app connects to first.
   */
  const expectFirstSweep = (since: { a: number; b: number }) => expect([since.a + since.b, Math.min(since.a, since.b)]).toEqual([3, 1]);
  const byId = (body: Status[]) => Object.fromEntries(body.map((s) => [s.serverId, s]));
  const running = (name: string, fake: FakeCs2) => ({
    serverId: ids[name],
    reachable: true,
    running: true,
    pid: fake.pid,
    uptimeSeconds: expect.any(Number),
    checkedAt: expect.any(String),
    latencyMs: expect.any(Number),
  });
  const stopped = (name: string) => ({ serverId: ids[name], reachable: true, running: false, checkedAt: expect.any(String), latencyMs: expect.any(Number) });

  async function addServer(name: string, host: SshdHost | { host: string; port: number }, gameDirectory: string, gamePort: number, extra = {}) {
    const body = sshServerBody(host as SshdHost, user, { name, gameDirectory, gamePort, ...extra });
    ids[name] = (await t.api.post('/api/servers').send(body).expect(201)).body.id;
  }

  beforeAll(async () => {
    user = loadTestUser();
    [hostA, hostB] = await Promise.all([startSshd({ address: '127.0.0.41' }), startSshd({ address: '127.0.0.42' })]);
    db = await createTestDatabase('sqlite');
    farm = new FakeCs2Farm(user.username);
    keyDir = scratchDir('keys');
    t = await createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY, SSH_KEY_DIR: keyDir, STATUS_CACHE_MS: '0', STATUS_PROBE_TIMEOUT_MS: '1500' });
    const d = (p: string) => farm.dir(p);
    // Host A.
    await addServer('a-run', hostA, d('a/cs2'), 27015);
    await addServer('a-old', hostA, d('a/cs2-old'), 27020);
    await addServer('a-prefix', hostA, d('a/cs'), 27020); // a prefix of a/cs2-old, same port as a-old
    await addServer('a-port', hostA, `${d('a/ports')}/`, 27030); // only 270300 and "-port_x 27030" run there
    await addServer('a-stopped', hostA, d('a/stopped'), 27040); // a/stopped2 is only an argument elsewhere
    await addServer('a-lg', hostA, d('a/lg'), 27050); // ./cs2 -port 27050 runs in a/lgsm/…, not in a/lg
    await addServer('a-log', hostA, d('a/s2'), 27002); // only `dash … a/s2/log.txt -port 27002` runs: not the game
    // Host B.
    await addServer('b-run', hostB, d('b/cs2'), 27015);
    await addServer('b-stopped', hostB, d('b/cs2-2'), 27016);
    await addServer('b-lgsm', hostB, d('b/lgsm'), 27017); // started as ./cs2 from its bin directory, as LinuxGSM does
    // Its key file cannot be read: it alone answers with that, its host's other servers are probed.
    await addServer('b-nokey', hostB, d('b/cs2'), 27015, { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: join(keyDir, 'missing') });
    // A host where nothing listens.
    const nowhere = { host: '127.0.0.43', port: await freePort('127.0.0.43') };
    await addServer('c-unreachable', nowhere, d('c/cs2'), 27015);

    fakes['a-run'] = farm.start(d('a/cs2'), ['-dedicated', '-port', '27015', '+map', 'de_dust2']);
    fakes['a-old'] = farm.start(d('a/cs2-old'), ['-dedicated', '+ip', '0.0.0.0', '-port', '27020']);
    farm.start(d('a/ports'), ['-dedicated', '-port', '270300', '-port_x', '27030', '+port 27030']);
    farm.start(d('a/elsewhere'), ['-dedicated', '-port', '27040', '+logdir', d('a/stopped2/logs'), '-port 27040']);
    farm.start(d('a/lgsm'), ['-dedicated', '-port', '27050'], { relative: true });
    farm.startOther([d('a/s2/log.txt'), '-port', '27002']);
    fakes['b-lgsm'] = farm.start(d('b/lgsm'), ['-dedicated', '-ip', '0.0.0.0', '-port', '27017', '+exec', 'cs2server.cfg'], { relative: true });
    fakes['b-run'] = farm.start(d('b/cs2'), ['-dedicated', '-port', '27015', '+exec', `${d('b/cs2')}/cfg/my server.cfg`]);
    await farm.started();
    // Let uptimes reach a second, so that the check below is not trivially 0.
    await new Promise((r) => setTimeout(r, 1200));
  });
  afterAll(async () => {
    hostA?.thaw();
    hostB?.thaw();
    await t?.close();
    farm?.stop();
    await Promise.all([hostA?.stop(), hostB?.stop()]);
    await db?.drop();
  });

  it('answers for every server by the exact rule, with one session per host per sweep', async () => {
    const before = sessions();
    const res = await t.api.get('/api/server-status').expect(200);
    expectFirstSweep(sessionsSince(before));
    expect(res.body).toHaveLength(Object.keys(ids).length);
    const statuses = byId(res.body);
    expect(statuses).toEqual({
      [ids['a-run']]: running('a-run', fakes['a-run']),
      [ids['a-old']]: running('a-old', fakes['a-old']),
      [ids['a-prefix']]: stopped('a-prefix'),
      [ids['a-port']]: stopped('a-port'),
      [ids['a-stopped']]: stopped('a-stopped'),
      [ids['a-lg']]: stopped('a-lg'),
      [ids['a-log']]: stopped('a-log'),
      [ids['b-run']]: running('b-run', fakes['b-run']),
      [ids['b-stopped']]: stopped('b-stopped'),
      [ids['b-lgsm']]: running('b-lgsm', fakes['b-lgsm']),
      [ids['b-nokey']]: { ...stopped('b-nokey'), reachable: false, error: 'SSH_KEY_INVALID', latencyMs: 0 },
      [ids['c-unreachable']]: {
        serverId: ids['c-unreachable'],
        reachable: false,
        running: false,
        error: 'SSH_UNREACHABLE',
        checkedAt: expect.any(String),
        latencyMs: expect.any(Number),
      },
    });
    for (const name of ['a-run', 'a-old', 'b-run', 'b-lgsm']) {
      const alive = (Date.now() - fakes[name].startedAt) / 1000;
      expect(statuses[ids[name]].uptimeSeconds).toBeGreaterThanOrEqual(1);
      expect(statuses[ids[name]].uptimeSeconds).toBeLessThanOrEqual(Math.ceil(alive) + 1);
    }
    // One host's servers share one probe: one check time and latency per host.
    expect(statuses[ids['a-stopped']].checkedAt).toBe(statuses[ids['a-run']].checkedAt);
  });

  it('times each host probe in the status-probe histogram, by outcome', async () => {
    const probes = async () => {
      const families = parsePrometheusText((await t.http.get('/metrics').expect(200)).text);
      const count = (outcome: string) => sampleValue(families, 'cs2_ssh_pool_status_probe_duration_seconds_count', { outcome });
      return { ok: count('ok'), error: count('error') };
    };
    const before = await probes();
    await t.api.get('/api/server-status').expect(200);
    // Hosts A and B answer; the unreachable host's probe ends in SSH_UNREACHABLE or, once it backs off,
    // SSH_HOST_DOWN: an error either way. b-nokey has no target, so nothing is probed for it.
    expect(await probes()).toEqual({ ok: before.ok + 2, error: before.error + 1 });
  });

  it('answers one server with one session on its host only; a second sweep probes again (cache off)', async () => {
    const before = sessions();
    const res = await t.api.get(`/api/server-status/${ids['b-run']}`).expect(200);
    expect(res.body).toEqual(running('b-run', fakes['b-run']));
    expect(sessionsSince(before)).toEqual({ a: 0, b: 1 });
    expect((await t.api.get(`/api/server-status/${ids['a-prefix']}`).expect(200)).body).toEqual(stopped('a-prefix'));
    await t.api.get('/api/server-status').expect(200);
    expect(sessionsSince(before)).toEqual({ a: 2, b: 2 });
  });

  it('refuses unknown and malformed ids and a missing token', async () => {
    const unknown = '4f0c1f8e-2b7a-4a57-9d3e-0a1b2c3d4e5f';
    const missing = await t.api.get(`/api/server-status/${unknown}`).expect(404);
    expect(missing.body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id: unknown } });
    const malformed = await t.api.get('/api/server-status/not-a-uuid').expect(400);
    expect(malformed.body).toEqual({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'serverId', messages: [expect.any(String)] }] });
    const anonymous = await t.http.get('/api/server-status').expect(401);
    expect(anonymous.body).toMatchObject(errorBody(401, 'UNAUTHORIZED'));
  });

  it('shares one probe per host between parallel requests (single flight)', async () => {
    const warm = probeCalls();
    await t.api.get('/api/server-status').expect(200); // connections exist: freezing holds the probes
    const sweepProbes = probeCalls() - warm; // host probes one sweep asks for
    const before = { ...sessions(), probeCalls: probeCalls() };
    hostA.freeze();
    hostB.freeze();
    const requests = [
      ...Array.from({ length: 4 }, () => t.api.get('/api/server-status')),
      t.api.get(`/api/server-status/${ids['a-run']}`),
      t.api.get(`/api/server-status/${ids['b-stopped']}`),
    ].map((r) => r.then((res) => res));
    await eventually('every request to reach its host probes', () => probeCalls() >= before.probeCalls + 4 * sweepProbes + 2, 10_000);
    hostA.thaw();
    hostB.thaw();
    const answers = await Promise.all(requests);
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200, 200]);
    expect(answers[4].body).toEqual(running('a-run', fakes['a-run']));
    expect(sessionsSince(before)).toEqual({ a: 1, b: 1 });
  });

  /** Host probes asked for so far (joined or started): the single-flight table's entry point, counted. */
  function probeCalls(): number {
    return countedFlights().calls;
  }

  let counted: { calls: number } | undefined;
  function countedFlights(): { calls: number } {
    if (counted) return counted;
    const flights = (t.app.get(StatusService) as unknown as { flights: ProbeFlights<unknown> }).flights;
    const run = flights.run.bind(flights);
    const tally = { calls: 0 };
    flights.run = (...args) => ((tally.calls += 1), run(...args));
    return (counted = tally);
  }

  it('answers a frozen host with its error within the probe timeout, without delaying the other host', async () => {
    await t.api.get('/api/server-status').expect(200);
    hostA.freeze();
    try {
      let sweepDone = false;
      const sweep = t.api.get('/api/server-status').then((res) => ((sweepDone = true), res));
      const other = await t.api.get(`/api/server-status/${ids['b-run']}`).expect(200);
      expect(sweepDone).toBe(false); // host B answered while host A was still being waited for
      expect(other.body).toEqual(running('b-run', fakes['b-run']));
      const res = await sweep;
      expect(res.status).toBe(200);
      const statuses = byId(res.body);
      expect(statuses[ids['a-run']]).toEqual({ ...stopped('a-run'), reachable: false, error: 'EXEC_TIMEOUT' });
      expect(statuses[ids['b-run']]).toEqual(running('b-run', fakes['b-run']));
      expect(statuses[ids['b-stopped']]).toEqual(stopped('b-stopped'));
    } finally {
      hostA.thaw();
    }
  });

  it('serves repeated polls from the cache for STATUS_CACHE_MS, saying how old the answer is', async () => {
    const cached = await createTestApp({ DATABASE_URL: db.url, CREDENTIALS_KEY, SSH_KEY_DIR: keyDir, STATUS_CACHE_MS: '60000' });
    try {
      const before = sessions();
      const first = await cached.api.get('/api/server-status').expect(200);
      // Let the clock move past the probe, so that a re-stamped answer would show it.
      const probedAt = Date.parse(byId(first.body)[ids['a-run']].checkedAt as string);
      await eventually('the clock to move past the probe', () => Date.now() > probedAt + 20);
      const askedAt = Date.now();
      const second = await cached.api.get('/api/server-status').expect(200);
      const one = await cached.api.get(`/api/server-status/${ids['a-run']}`).expect(200);
      expectFirstSweep(sessionsSince(before));
      // b-nokey was never probed (its key file cannot be read): it is checked anew each time.
      const probed = (body: Status[]) => body.filter((s) => s.serverId !== ids['b-nokey']);
      expect(probed(second.body)).toEqual(probed(first.body));
      expect(one.body).toEqual(byId(first.body)[ids['a-run']]);
      // The age shows: checked before these requests were sent, not when they were answered.
      expect(Date.parse(one.body.checkedAt)).toBeLessThan(askedAt);
    } finally {
      await cached.close();
    }
  });
});
