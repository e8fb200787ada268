// Issue 6, items 2–5: keys that cannot work are refused up front, never freeze the event loop, never
// mark a host down, and key files come only from SSH_KEY_DIR with one answer for every unusable file.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MAX_KEY_FILE_BYTES } from '../../src/servers/ssh-key-files.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { scratchDir } from '../support/databases.js';
import { authorizeKey, generateKey, type GeneratedKey } from '../support/keys.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { readUserFile } from '../support/test-user.js';

/** CPU seconds (user + system) since boot of the calling thread; this process's main thread runs the event loop. */
function mainThreadCpuSeconds(): number {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[11] = utime, fields[12] = stime (clock ticks)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * CPU time `work` cost on the event loop's thread and on every other thread (worker threads count
 * even after they exited: process.cpuUsage includes them). CPU time, unlike latency, does not grow
 * when the machine is loaded.
 */
async function cpuSplit(work: () => Promise<void>): Promise<{ loopSeconds: number; otherSeconds: number }> {
  const [process0, main0] = [process.cpuUsage(), mainThreadCpuSeconds()];
  await work();
  const used = process.cpuUsage(process0);
  const loopSeconds = mainThreadCpuSeconds() - main0;
  return { loopSeconds, otherSeconds: (used.user + used.system) / 1e6 - loopSeconds };
}

/** Bytes this process has read through read(2) and friends, files and sockets alike. */
function bytesRead(): number {
  return Number(/^rchar: (\d+)$/m.exec(readFileSync('/proc/self/io', 'utf8'))?.[1]);
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
    // The connect timeout covers decoding the key: a 300-round KDF on a loaded machine must fit in it.
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', SSH_KEY_DIR: keyDir, SSH_KEY_MAX_KDF_ROUNDS: '400', SSH_READY_TIMEOUT_MS: '90000' });
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

  it('decodes a costly key off the event loop, at create and at connect', async () => {
    let created = 0;
    const onCreate = await cpuSplit(async () => {
      created = (await t.api.post('/api/servers').send(keyServer({ sshPrivateKey: costly.privateKey, sshKeyPassphrase: 'wrong-phrase' }))).status;
    });
    // A key file is read at exec, so its KDF runs at connect time.
    const id = await create({ sshKeyPath: costly.path, sshKeyPassphrase: PASSPHRASE });
    const auths = sshd.acceptedAuths();
    let executed: unknown;
    const onConnect = await cpuSplit(async () => {
      const res = await exec(id);
      executed = { status: res.status, stdout: res.body.stdout };
    });
    expect({ created, executed, logins: sshd.acceptedAuths() - auths }).toEqual({ created: 400, executed: { status: 200, stdout: 'ok\n' }, logins: 1 });
    // bcrypt-pbkdf with 300 rounds costs seconds of CPU: it must be spent on a worker, not on the loop
    // (when the loop ran it, the loop's share was nearly all of it; /health/live then waited 5 s).
    for (const [step, split] of Object.entries({ onCreate, onConnect })) {
      expect({ step, kdfOffTheLoop: split.otherSeconds > 2 * split.loopSeconds, split }).toEqual({ step, kdfOffTheLoop: true, split });
    }
  }, 120_000); // two 300-round KDFs: seconds of CPU each, more on a loaded machine

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

  it('refuses a file whose stat says size 0 but that holds more than the cap', async () => {
    // smaps reports size 0 yet holds far more than 64 KiB: stat-based checks pass it.
    expect(readFileSync('/proc/self/smaps').length).toBeGreaterThan(64 * 1024);
    const id = await create('/proc/self/smaps');
    await expect(t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' })).resolves.toMatchObject({ status: 422, body: errorBody(422, 'SSH_KEY_INVALID') });
  });

  it('reads at most the cap + 1 byte of /proc/self/pagemap (size 0, never ends), without growing the process', async () => {
    const id = await create('/proc/self/pagemap');
    const [rss, read] = [process.memoryUsage.rss(), bytesRead()];
    await expect(t.api.post(`/api/servers/${id}/exec`).send({ command: 'true' })).resolves.toMatchObject({ status: 422, body: errorBody(422, 'SSH_KEY_INVALID') });
    // The key file's bytes plus the request's own socket reads (a few KiB); reading to the end would be gigabytes.
    expect(bytesRead() - read).toBeLessThanOrEqual(MAX_KEY_FILE_BYTES + 1 + 32 * 1024);
    expect(process.memoryUsage.rss() - rss).toBeLessThan(64 * 1024 * 1024);
  });
});
