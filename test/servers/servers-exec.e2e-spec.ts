import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, scratchDir, type TestDatabase } from '../support/databases.js';
import { remoteScratchPath, sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { eventually } from '../support/eventually.js';
import { isAlive } from '../support/proc.js';


describe.each(DATABASE_KINDS)('POST /api/servers/:id/exec against real sshd (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;
  let pool: SshPoolService;
  const keyDir = scratchDir('key-dir');

  const createServer = async (overrides: Record<string, unknown> = {}): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(sshd, user, overrides)).expect(201)).body.id;
  const exec = (id: string, command: string, timeoutMs?: number) => t.api.post(`/api/servers/${id}/exec`).send({ command, timeoutMs });

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    sshd = await startSshd();
    t = await createTestApp({ DATABASE_URL: db.url, SSH_KEY_DIR: keyDir });
    pool = t.app.get(SshPoolService);
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('runs a command: a non-zero exit is still a 200 with the contract shape', async () => {
    const id = await createServer();
    const res = await exec(id, 'echo out; echo err >&2; exit 3').expect(200);
    expect(res.body).toEqual({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', durationMs: expect.any(Number), truncated: false });
    await expect(exec(id, 'whoami')).resolves.toMatchObject({ status: 200, body: { stdout: `${user.username}\n`, exitCode: 0 } });
  });

  it('authenticates with a key read from sshKeyPath and with an inline passphrase-protected key', async () => {
    const keyPath = join(keyDir, 'id_ed25519');
    writeFileSync(keyPath, user.privateKey, { mode: 0o600 });
    const fromPath = await createServer({ authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: keyPath });
    const inline = await createServer({
      authType: 'KEY_FILE',
      sshPassword: undefined,
      sshPrivateKey: user.encryptedPrivateKey,
      sshKeyPassphrase: user.encryptedKeyPassphrase,
    });
    await expect(exec(fromPath, 'whoami')).resolves.toMatchObject({ status: 200, body: { stdout: `${user.username}\n` } });
    await expect(exec(inline, 'whoami')).resolves.toMatchObject({ status: 200, body: { stdout: `${user.username}\n` } });
  });

  it('answers 422 for an unreadable sshKeyPath and 502 for a wrong password, without running anything', async () => {
    const sessions = sshd.sessionsStarted();
    const missing = await createServer({ authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: join(keyDir, 'nonexistent') });
    const res = await exec(missing, 'true').expect(422);
    expect(res.body).toEqual(errorBody(422, 'SSH_KEY_INVALID'));
    const wrong = await createServer({ sshPassword: 'not-the-password' });
    const refused = await exec(wrong, 'true').expect(502);
    expect(refused.body).toMatchObject(errorBody(502, 'SSH_AUTH_FAILED'));
    expect(JSON.stringify(refused.body)).not.toContain('not-the-password');
    expect(sshd.sessionsStarted()).toBe(sessions);
  });

  it('answers 504 EXEC_TIMEOUT on timeout and stops the remote command', async () => {
    const id = await createServer();
    const pidFile = remoteScratchPath('pid');
    try {
      const res = await exec(id, `echo $$ > ${pidFile}; exec sleep 60`, 1000).expect(504);
      expect(res.body).toMatchObject(errorBody(504, 'EXEC_TIMEOUT'));
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      expect(pid).toBeGreaterThan(1);
      await eventually(`remote sleep (pid ${pid}) to end`, () => !isAlive(pid), 5000);
      await exec(id, 'true').expect(200);
    } finally {
      rmSync(pidFile, { force: true });
    }
  });

  it('moves a server whose password is PATCHed off the connection it shared', async () => {
    const a = await createServer();
    const b = await createServer();
    await exec(a, 'true').expect(200);
    await exec(b, 'true').expect(200);
    const shared = pool.getConnections().filter((c) => c.serverIds.includes(a));
    expect(shared).toHaveLength(1);
    expect(shared[0].serverIds).toEqual(expect.arrayContaining([a, b]));

    await t.api.patch(`/api/servers/${a}`).send({ sshPassword: 'changed-and-wrong' }).expect(200);
    const after = pool.getConnections().find((c) => c.id === shared[0].id);
    expect(after?.serverIds).toContain(b);
    expect(after?.serverIds).not.toContain(a);
    await exec(a, 'true').expect(502); // the new password is used: no riding on b's connection
    await exec(b, 'true').expect(200);
    await t.api.patch(`/api/servers/${a}`).send({ sshPassword: user.password }).expect(200);
    await exec(a, 'true').expect(200);
  });

  it('closes the connection a PATCH or DELETE leaves unused, and opens a new one when needed', async () => {
    const own = await startSshd(); // no other server shares its connections
    try {
      const id = (await t.api.post('/api/servers').send(sshServerBody(own, user)).expect(201)).body.id;
      await exec(id, 'true').expect(200);
      const [connection] = pool.getConnections().filter((c) => c.serverIds.includes(id));
      expect(own.acceptedAuths()).toBe(1);

      await t.api.patch(`/api/servers/${id}`).send({ sshPassword: user.password }).expect(200);
      await own.waitFor(() => own.disconnects() === 1 && own.openConnections() === 0);
      expect(pool.getConnections().map((c) => c.id)).not.toContain(connection.id);
      await exec(id, 'true').expect(200);
      expect(own.acceptedAuths()).toBe(2);

      await t.api.delete(`/api/servers/${id}`).expect(204);
      await own.waitFor(() => own.disconnects() === 2 && own.openConnections() === 0);
      expect(pool.getConnections().filter((c) => c.serverIds.includes(id))).toEqual([]);
    } finally {
      await own.stop();
    }
  });
});

describe.each(DATABASE_KINDS)('GET /api/server-status/pool/stats against real sshd (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    sshd = await startSshd();
    t = await createTestApp({ DATABASE_URL: db.url });
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  it('reports pool stats in the seed shape that match what sshd sees', async () => {
    const create = async (overrides: Record<string, unknown>) =>
      (await t.api.post('/api/servers').send(sshServerBody(sshd, user, overrides)).expect(201)).body.id as string;
    const byPassword = [await create({}), await create({}), await create({})];
    const byKey = await create({ authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: user.privateKey });
    for (const id of [...byPassword, byKey, ...byPassword]) {
      await t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' }).expect(200);
    }
    // sshd's own count: one connection per credential set, one session per command, and one for the
    // connector's spare-channel feature test (`exit 7`) on the app's first connection.
    expect({ open: sshd.openConnections(), auths: sshd.acceptedAuths(), sessions: sshd.sessionsStarted() }).toEqual({ open: 2, auths: 2, sessions: 7 + 1 });
    const res = await t.api.get('/api/server-status/pool/stats').expect(200);
    expect(res.body).toEqual({
      success: true,
      pool_stats: expect.objectContaining({
        total_connections: sshd.openConnections(),
        alive_connections: sshd.openConnections(),
        in_use_connections: 0,
        idle_connections: sshd.openConnections(),
        idle_timeout: 300,
        max_lifetime: 3600,
      }),
    });
    expect(res.body.pool_stats.connects).toBe(sshd.acceptedAuths());
    expect(res.body.pool_stats.commands).toBe(sshd.sessionsStarted() - 1);
  });
});
