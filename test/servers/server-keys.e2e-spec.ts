// Issue 6, items 2–5: keys that cannot work are refused up front, never freeze the event loop, never
// mark a host down, and key files come only from SSH_KEY_DIR with one answer for every unusable file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { scratchDir } from '../support/databases.js';
import { authorizeKey, generateKey, type GeneratedKey } from '../support/keys.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { readUserFile } from '../support/test-user.js';

/**
 * Sends /health/live every ~20 ms while `work` runs; returns the worst delay a probe saw between the
 * moment it was due and its answer (so a loop blocked between two probes counts too).
 */
async function worstLiveLatency(t: TestApp, work: () => Promise<void>): Promise<number> {
  const INTERVAL_MS = 20;
  let done = false;
  let worst = 0;
  const poller = (async () => {
    while (!done) {
      const due = performance.now() + INTERVAL_MS;
      await new Promise((r) => setTimeout(r, INTERVAL_MS));
      await t.http.get('/health/live').expect(200);
      worst = Math.max(worst, performance.now() - due);
    }
  })();
  try {
    await work();
  } finally {
    done = true;
    await poller;
  }
  return worst;
}

describe('SSH keys over HTTP against real sshd', () => {
  const PASSPHRASE = 'costly-key-phrase';
  const keyDir = scratchDir('key-dir');
  let user: TestUser;
  let sshd: SshdHost;
  let t: TestApp;
  let costly: GeneratedKey;
  let plain: GeneratedKey;

  const keyServer = (overrides: Record<string, unknown>) => sshServerBody(sshd, user, { authType: 'KEY_FILE', sshPassword: undefined, ...overrides });
  const create = async (overrides: Record<string, unknown>): Promise<string> =>
    (await t.api.post('/api/servers').send(keyServer(overrides)).expect(201)).body.id;
  const exec = (id: string) => t.api.post(`/api/servers/${id}/exec`).send({ command: 'echo ok' });

  beforeAll(async () => {
    user = loadTestUser();
    // 300 rounds: seconds of bcrypt-pbkdf, which the event loop used to run inside Client.connect.
    costly = generateKey(keyDir, 'id_costly', { passphrase: PASSPHRASE, rounds: 300 });
    plain = generateKey(keyDir, 'id_plain');
    authorizeKey(costly);
    authorizeKey(plain);
    sshd = await startSshd({ address: '127.0.0.7' });
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', SSH_KEY_DIR: keyDir, SSH_KEY_MAX_KDF_ROUNDS: '400' });
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
  });

  it('refuses an inline key that cannot work at create and patch, naming the field and the reason', async () => {
    const refused = async (overrides: Record<string, unknown>, field: string, reason: RegExp, patchOf?: string) => {
      const res = patchOf
        ? await t.api.patch(`/api/servers/${patchOf}`).send(overrides).expect(400)
        : await t.api.post('/api/servers').send(keyServer(overrides)).expect(400);
      expect(res.body).toEqual({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field, messages: [expect.stringMatching(reason)] }] });
      expect(JSON.stringify(res.body)).not.toContain('wrong-phrase');
    };
    const encrypted = user.encryptedPrivateKey;
    await refused({ sshPrivateKey: encrypted, sshKeyPassphrase: 'wrong-phrase' }, 'sshKeyPassphrase', /passphrase does not decrypt/);
    await refused({ sshPrivateKey: encrypted }, 'sshKeyPassphrase', /encrypted and no passphrase/);
    await refused({ sshPrivateKey: '-----BEGIN RSA PRIVATE KEY-----\nnot base64 at all\n-----END RSA PRIVATE KEY-----\n' }, 'sshPrivateKey', /cannot be parsed/);
    await refused({ sshPrivateKey: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }, 'sshPrivateKey', /not a private key/);
    const tooCostly = generateKey(scratchDir('keys'), 'id_500', { passphrase: PASSPHRASE, rounds: 500 }).privateKey;
    await refused({ sshPrivateKey: tooCostly, sshKeyPassphrase: PASSPHRASE }, 'sshPrivateKey', /500 bcrypt rounds; at most 400/);

    const id = await create({ sshPrivateKey: encrypted, sshKeyPassphrase: user.encryptedKeyPassphrase });
    await refused({ sshKeyPassphrase: 'wrong-phrase' }, 'sshKeyPassphrase', /passphrase does not decrypt/, id);
    await refused({ sshKeyPassphrase: null }, 'sshKeyPassphrase', /no passphrase/, id);
    await exec(id).expect(200);
  });

  it('keeps /health/live answering while a costly key is checked at create and decoded at connect', async () => {
    let created = 0;
    const worstOnCreate = await worstLiveLatency(t, async () => {
      created = (await t.api.post('/api/servers').send(keyServer({ sshPrivateKey: costly.privateKey, sshKeyPassphrase: 'wrong-phrase' }))).status;
    });
    // A key file is read at exec, so its KDF runs at connect time.
    const id = await create({ sshKeyPath: costly.path, sshKeyPassphrase: PASSPHRASE });
    const auths = sshd.acceptedAuths();
    let executed: unknown;
    const worstOnConnect = await worstLiveLatency(t, async () => {
      const res = await exec(id);
      executed = { status: res.status, stdout: res.body.stdout };
    });
    // bcrypt-pbkdf with 300 rounds keeps a core busy for seconds; the loop must not wait for it.
    expect({ created, executed, logins: sshd.acceptedAuths() - auths }).toEqual({ created: 400, executed: { status: 200, stdout: 'ok\n' }, logins: 1 });
    // Loose bound on a shared machine: measured ~50-90 ms here, against 5 s when the loop ran the KDF.
    expect(Math.max(worstOnCreate, worstOnConnect)).toBeLessThan(1000);
  });

  it('answers 422 SSH_KEY_INVALID for an unusable key file and never marks the host down', async () => {
    writeFileSync(join(keyDir, 'garbage'), '-----BEGIN OPENSSH PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END OPENSSH PRIVATE KEY-----\n');
    writeFileSync(join(keyDir, 'notes.txt'), 'not a key at all\n');
    const bad = [
      await create({ sshKeyPath: join(keyDir, 'garbage') }),
      await create({ sshKeyPath: join(keyDir, 'notes.txt') }),
      await create({ sshKeyPath: costly.path, sshKeyPassphrase: 'wrong-phrase' }),
    ];
    const before = { accepted: sshd.acceptedAuths(), failed: sshd.failedAuths() };
    for (let round = 0; round < 3; round++) {
      for (const id of bad) {
        const res = await exec(id).expect(422);
        expect(res.body).toMatchObject({ ...errorBody(422, 'SSH_KEY_INVALID') });
      }
    }
    const good = await create({ sshKeyPath: plain.path });
    await expect(exec(good)).resolves.toMatchObject({ status: 200, body: { stdout: 'ok\n' } });
    // sshd saw one login (the good key) and no attempt with a bad one.
    expect({ accepted: sshd.acceptedAuths() - before.accepted, failed: sshd.failedAuths() - before.failed }).toEqual({ accepted: 1, failed: 0 });
  });

  it('takes key paths only from SSH_KEY_DIR, after resolving links, at create, patch and every read', async () => {
    const outside = readUserFile().privateKeyPath; // an authorized key outside the key dir
    symlinkSync(outside, join(keyDir, 'link-out'));
    const refusedPath = async (res: { body: unknown }) =>
      expect(res.body).toEqual({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'sshKeyPath', messages: [expect.stringContaining('SSH_KEY_DIR')] }] });
    await refusedPath(await t.api.post('/api/servers').send(keyServer({ sshKeyPath: outside })).expect(400));
    await refusedPath(await t.api.post('/api/servers').send(keyServer({ sshKeyPath: join(keyDir, 'link-out') })).expect(400));
    await refusedPath(await t.api.post('/api/servers').send(keyServer({ sshKeyPath: '/etc/ssh/ssh_host_ed25519_key' })).expect(400));

    const swapped = join(keyDir, 'swapped');
    copyFileSync(plain.path, swapped);
    const id = await create({ sshKeyPath: swapped });
    await refusedPath(await t.api.patch(`/api/servers/${id}`).send({ sshKeyPath: outside }).expect(400));
    await exec(id).expect(200);
    rmSync(swapped);
    symlinkSync(outside, swapped); // swapped for a link after the check: refused at read
    const auths = sshd.acceptedAuths();
    await expect(exec(id)).resolves.toMatchObject({ status: 422, body: errorBody(422, 'SSH_KEY_INVALID') });
    expect(sshd.acceptedAuths()).toBe(auths);
  });

  it('gives one answer for every unreadable key file: missing, directory, FIFO, loop, too large', async () => {
    const dir = join(keyDir, 'cases');
    mkdirSync(dir);
    const names = ['missing', 'a-directory', 'a-fifo', 'loop-a', 'too-large'];
    // Created first (a path may be provisioned later), then made unusable.
    const ids = new Map<string, string>();
    for (const name of names) ids.set(name, await create({ sshKeyPath: join(dir, name) }));
    mkdirSync(join(dir, 'a-directory'));
    execFileSync('mkfifo', [join(dir, 'a-fifo')]);
    symlinkSync(join(dir, 'loop-b'), join(dir, 'loop-a'));
    symlinkSync(join(dir, 'loop-a'), join(dir, 'loop-b'));
    writeFileSync(join(dir, 'too-large'), `${plain.privateKey}${'#'.repeat(70 * 1024)}`);
    const bodies = new Set<string>();
    for (const [name, id] of ids) {
      const res = await exec(id).expect(422);
      expect({ name, body: res.body }).toEqual({ name, body: errorBody(422, 'SSH_KEY_INVALID') });
      const { correlationId: _ignored, ...rest } = res.body;
      bodies.add(JSON.stringify(rest).replaceAll(id, '<id>'));
    }
    expect([...bodies]).toHaveLength(1);
    expect([...bodies][0]).not.toMatch(/ENOENT|ELOOP|regular|large|cases/);
  });
});

describe('sshKeyPath that lies about its size (SSH_KEY_DIR=/proc/self)', () => {
  let t: TestApp;
  let user: TestUser;
  let sshd: SshdHost;

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.7' });
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', SSH_KEY_DIR: '/proc/self' });
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
  });

  const create = async (path: string): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: path })).expect(201)).body.id;

  it('reads at most the cap + 1 byte of a file whose stat says size 0', async () => {
    // smaps reports size 0 yet holds far more than 64 KiB: stat-based checks pass it.
    expect(readFileSync('/proc/self/smaps').length).toBeGreaterThan(64 * 1024);
    const id = await create('/proc/self/smaps');
    await expect(t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' })).resolves.toMatchObject({ status: 422, body: errorBody(422, 'SSH_KEY_INVALID') });
  });

  it('answers /proc/self/pagemap (size 0, never ends) at once, without growing the process', async () => {
    const id = await create('/proc/self/pagemap');
    const rss = process.memoryUsage.rss();
    await expect(t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' })).resolves.toMatchObject({ status: 422, body: errorBody(422, 'SSH_KEY_INVALID') });
    expect(process.memoryUsage.rss() - rss).toBeLessThan(64 * 1024 * 1024);
  });
});
