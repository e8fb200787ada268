import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, scratchDir, type TestDatabase } from '../support/databases.js';
import { remoteScratchPath, sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

/** What an operator compares a pin with: `ssh-keygen -lf <host key>.pub` on the host, e.g. `256 SHA256:… root@host (ED25519)`. */
function sshKeygenFingerprint(publicKeyPath: string): { fingerprint: string; type: string } {
  const printed = execFileSync('ssh-keygen', ['-lf', publicKeyPath], { encoding: 'utf8' });
  const match = /^\d+ (SHA256:\S+) .*\((\w+)\)$/m.exec(printed);
  if (!match) throw new Error(`unexpected ssh-keygen -lf output: ${printed}`);
  return { fingerprint: match[1], type: match[2] };
}

const BOGUS_FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

describe.each(DATABASE_KINDS)('host keys: trust on first use, stored in the database (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let dataDir: string;
  let t: TestApp | undefined;
  const markers: string[] = [];

  /** Same database and data directory each time: a restart of the service. */
  const start = async () => (t = await createTestApp({ DATABASE_URL: db.url, DATA_DIR: dataDir, HOST_KEY_POLICY: 'accept-new' }));
  const exec = (app: TestApp, id: string, command: string) => app.api.post(`/api/servers/${id}/exec`).send({ command });

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    dataDir = scratchDir('data');
    sshd = await startSshd();
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
    for (const marker of markers) rmSync(marker, { force: true });
  });

  it('stores the first key, refuses a changed one after a restart without running the command, accepts a new pin', async () => {
    const first = await start();
    const { body: server } = await first.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201);
    expect(server.pinnedHostKey).toBeNull();
    const beforeConnect = Date.now();
    await exec(first, server.id, 'true').expect(200);
    const { body: shown } = await first.api.get(`/api/servers/${server.id}`).expect(200);
    const keygen = sshKeygenFingerprint(sshd.hostPublicKeyPath());
    expect(keygen.type).toBe('ED25519');
    expect(shown.pinnedHostKey).toEqual({ algorithm: 'ssh-ed25519', fingerprint: keygen.fingerprint, pinnedAt: expect.any(String) });
    expect(Date.parse(shown.pinnedHostKey.pinnedAt)).toBeGreaterThanOrEqual(Math.floor(beforeConnect / 1000) * 1000);
    const { body: listed } = await first.api.get('/api/servers').expect(200);
    expect(listed.find((s: { id: string }) => s.id === server.id).pinnedHostKey).toEqual(shown.pinnedHostKey);
    const original = sshd.hostKeyFingerprint();
    expect(await db.rows('host_keys')).toEqual([
      expect.objectContaining({ host: sshd.host, port: sshd.port, fingerprint: original, algorithm: 'ssh-ed25519' }),
    ]);
    await first.close();
    t = undefined;

    await sshd.rotateHostKey();
    expect(sshd.hostKeyFingerprint()).not.toBe(original);
    const second = await start();
    const marker = remoteScratchPath('hostkey');
    markers.push(marker);
    const auths = sshd.acceptedAuths();
    const sessions = sshd.sessionsStarted();
    const refused = await exec(second, server.id, `touch ${marker}`).expect(502);
    expect(refused.body).toMatchObject(errorBody(502, 'SSH_HOST_KEY_MISMATCH'));
    expect(existsSync(marker)).toBe(false);
    expect({ auths: sshd.acceptedAuths(), sessions: sshd.sessionsStarted() }).toEqual({ auths, sessions });

    // Still the old pin: the answer shows what the service trusts, not what the host now presents.
    expect((await second.api.get(`/api/servers/${server.id}`).expect(200)).body.pinnedHostKey.fingerprint).toBe(original);

    // The documented re-pin after a planned key change: pin the new fingerprint, connect, unpin.
    const rotated = sshKeygenFingerprint(sshd.hostPublicKeyPath()).fingerprint;
    await second.api.patch(`/api/servers/${server.id}`).send({ hostKeyFingerprint: rotated }).expect(200);
    await exec(second, server.id, `touch ${marker}`).expect(200);
    expect(existsSync(marker)).toBe(true);
    await second.api.patch(`/api/servers/${server.id}`).send({ hostKeyFingerprint: null }).expect(200);
    await second.api.post(`/api/server-status/pool/close-all`).expect(200);
    await exec(second, server.id, 'true').expect(200);
    expect((await second.api.get(`/api/servers/${server.id}`).expect(200)).body.pinnedHostKey).toMatchObject({ fingerprint: rotated });
  });

  it('refuses a host whose key differs from the server pin, even when the stored key matches', async () => {
    const app = t ?? (await start());
    const marker = remoteScratchPath('pinned');
    markers.push(marker);
    const { body: pinned } = await app.api
      .post('/api/servers')
      .send(sshServerBody(sshd, user, { hostKeyFingerprint: BOGUS_FINGERPRINT, sshKeyPath: undefined, authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: user.privateKey }))
      .expect(201);
    const refused = await exec(app, pinned.id, `touch ${marker}`).expect(502);
    expect(refused.body).toMatchObject(errorBody(502, 'SSH_HOST_KEY_MISMATCH'));
    expect(existsSync(marker)).toBe(false);
    await app.api.patch(`/api/servers/${pinned.id}`).send({ hostKeyFingerprint: null }).expect(200);
    await exec(app, pinned.id, `touch ${marker}`).expect(200);
    expect(existsSync(marker)).toBe(true);
  });
});
