import type { INestApplication } from '@nestjs/common';
import type { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { CapturingLogger } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { createPool } from '../support/pool-module.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { targetOn } from '../support/targets.js';
import { SPARE_MODES } from './spare-modes.js';

describe.each(SPARE_MODES)('SSH pool against real sshd: sharing and capacity (SSH_SPARE_CHANNELS=%s)', (spares) => {
  let user: TestUser;
  let roomy: SshdHost;
  let tight: SshdHost;
  let app: INestApplication | undefined;
  let pool: SshPoolService;

  beforeAll(async () => {
    user = loadTestUser();
    [roomy, tight] = await Promise.all([startSshd({ address: '127.0.0.2' }), startSshd({ address: '127.0.0.3', maxSessions: 2 })]);
  });
  afterAll(async () => {
    await Promise.all([roomy?.stop(), tight?.stop()]);
  });
  // With spares on, the connector's feature test (`exit 7`) is one session on the pool's first connection.
  const featureTest = spares === 'true' ? 1 : 0;

  beforeEach(async () => {
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares }));
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('runs a command and reports stdout, stderr, exit code and duration', async () => {
    const result = await pool.exec(targetOn(roomy, user), 'echo out; echo err >&2; exit 3');
    expect(result).toEqual({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', truncated: false, durationMs: expect.any(Number) });
  });

  it('serves several servers on one host with one authentication, counted by sshd', async () => {
    const before = roomy.acceptedAuths();
    const sessionsBefore = roomy.sessionsStarted();
    const servers = ['eu-1', 'eu-2', 'eu-3'];
    await Promise.all(servers.map((id) => pool.exec(targetOn(roomy, user, { serverId: id }), `echo ${id}`)));
    for (const id of servers) await pool.exec(targetOn(roomy, user, { serverId: id }), 'true');
    expect(roomy.acceptedAuths() - before).toBe(1);
    expect(roomy.sessionsStarted() - sessionsBefore).toBe(6 + featureTest);
    expect(pool.getConnections()).toMatchObject([{ serverIds: servers, commandsRun: 6 }]);
    // A spare's open is answered before the command that triggered it ends: each sequential command finds one.
    expect(pool.getStats()).toMatchObject({ total_connections: 1, connects: 1, hits: 3, misses: 3, spare_hits: spares === 'true' ? 3 : 0 });
  });

  it('authenticates with private keys, plain and passphrase-protected, on separate connections', async () => {
    const before = roomy.acceptedAuths();
    const plain = targetOn(roomy, user, { auth: { type: 'KEY_FILE', privateKey: user.privateKey } });
    const locked = targetOn(roomy, user, {
      auth: { type: 'KEY_FILE', privateKey: user.encryptedPrivateKey, passphrase: user.encryptedKeyPassphrase },
    });
    await expect(pool.exec(plain, 'whoami')).resolves.toMatchObject({ stdout: `${user.username}\n` });
    await expect(pool.exec(locked, 'whoami')).resolves.toMatchObject({ stdout: `${user.username}\n` });
    await pool.exec(plain, 'true');
    expect(roomy.acceptedAuths() - before).toBe(2);
  });

  it('keeps credentials apart: a wrong password fails even while a good connection to the same user is open', async () => {
    const good = targetOn(roomy, user);
    await pool.exec(good, 'true');
    const failedBefore = roomy.failedAuths();
    const wrong = targetOn(roomy, user, { serverId: 'intruder', auth: { type: 'PASSWORD', password: `${user.password}-wrong` } });
    await expect(pool.exec(wrong, 'true')).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' });
    await expect(pool.exec(wrong, 'true')).rejects.toMatchObject({ code: 'SSH_AUTH_FAILED' });
    expect(roomy.failedAuths() - failedBefore).toBe(1);
    await expect(pool.exec(good, 'echo still-fine')).resolves.toMatchObject({ stdout: 'still-fine\n' });
    expect(pool.getConnections()).toMatchObject([{ serverIds: ['server-1'] }]);
  });

  it("logs the seed's pool lines and never a credential", async () => {
    await app?.close();
    const logs = new CapturingLogger();
    ({ app, pool } = await createPool({ SSH_SPARE_CHANNELS: spares, LOG_LEVEL: 'debug' }, undefined, logs));
    const good = targetOn(roomy, user);
    const wrongPassword = `${user.password}-not-this-one`;
    await pool.exec(good, 'true');
    await pool.exec(good, 'true');
    await expect(pool.exec(targetOn(roomy, user, { auth: { type: 'PASSWORD', password: wrongPassword } }), 'true')).rejects.toMatchObject({
      code: 'SSH_AUTH_FAILED',
      message: expect.not.stringContaining(user.password),
    });
    const key = `ConnectionKey(${user.username}@${roomy.host}:${roomy.port}, PASSWORD)`;
    const text = logs.lines.join('\n');
    expect(text).toContain('SSH connection pool started');
    expect(text).toContain(`Created new SSH connection: ${key}`);
    expect(text).toContain(`Reusing existing connection: ${key}`);
    expect(text).not.toContain(user.password);
  });

  it('makes one handshake for simultaneous first requests', async () => {
    const before = roomy.acceptedAuths();
    await Promise.all(Array.from({ length: 8 }, () => pool.exec(targetOn(roomy, user), 'true')));
    expect(roomy.acceptedAuths() - before).toBe(1);
  });

  it('runs 120 concurrent commands on a MaxSessions=2 host with no failure and bounded connections', async () => {
    const authsBefore = tight.acceptedAuths();
    const sessionsBefore = tight.sessionsStarted();
    const results = await Promise.all(
      Array.from({ length: 120 }, (_, i) => pool.exec(targetOn(tight, user, { serverId: `s${i % 5}` }), `echo ${i}`)),
    );
    expect(results.map((r) => r.stdout)).toEqual(Array.from({ length: 120 }, (_, i) => `${i}\n`));
    expect(results.every((r) => r.exitCode === 0)).toBe(true);
    // sshd logs an authentication before the client sees it succeed: let a late connect land first.
    await eventually('connects in progress to finish', () => pool.getStats().connecting === 0);
    const connections = tight.acceptedAuths() - authsBefore;
    expect(connections).toBeGreaterThanOrEqual(1);
    expect(connections).toBeLessThanOrEqual(4);
    expect(tight.sessionsStarted() - sessionsBefore).toBe(120 + featureTest);
    // Never above sshd's MaxSessions. Under CPU load a connection may end below it (a refusal right
    // after a close is read as the limit until the pool probes upward): convergence is bench/'s job.
    const limits = pool.getConnections().map((c) => c.channelLimit);
    expect(limits.length).toBeGreaterThan(0);
    expect(limits.every((limit) => limit >= 1 && limit <= 2)).toBe(true);
    // The whole stats object on failure: an eviction or a failed connect would show here.
    expect(pool.getStats()).toMatchObject({ total_connections: connections, connects: connections, connect_failures: 0 });
  });
});
