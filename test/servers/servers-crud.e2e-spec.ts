import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CapturingLogger, createTestApp, errorBody, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, scratchDir, type TestDatabase } from '../support/databases.js';
import { generateKey } from '../support/keys.js';

const PASSWORD = 'pw-Secret-7f3a9c-do-not-leak';
const PASSPHRASE = 'phrase-Secret-51be0d-do-not-leak';
// Inline keys are decoded at create: a real one, passphrase-protected. Its middle line stands for its material.
const PRIVATE_KEY = generateKey(scratchDir('crud-keys'), 'id_ed25519', { passphrase: PASSPHRASE }).privateKey;
const KEY_BODY = PRIVATE_KEY.split('\n')[2];
const SECRETS = [PASSWORD, PASSPHRASE, KEY_BODY];
const FINGERPRINT = 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s';

const expectNoSecrets = (value: unknown) => {
  const text = JSON.stringify(value);
  for (const secret of SECRETS) expect(text).not.toContain(secret);
};

describe.each(DATABASE_KINDS)('servers CRUD over HTTP (%s)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  const logs = new CapturingLogger();
  const keyDir = scratchDir('key-dir');

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ DATABASE_URL: db.url, SSH_KEY_DIR: keyDir }, { logger: logs });
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('creates, reads, lists, updates and deletes a server', async () => {
    const created = await t.api.post('/api/servers').send(serverBody({ name: 'eu-1', description: 'first' })).expect(201);
    expect(created.body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'eu-1',
      host: '10.0.0.5',
      sshPort: 22,
      sshUser: 'cs2',
      authType: 'PASSWORD',
      sshKeyPath: null,
      hostKeyFingerprint: null,
      gameDirectory: '/home/cs2/serverfiles',
      gamePort: 27015,
      description: 'first',
      controlScript: '/home/cs2/cs2server',
      hasPassword: true,
      hasPrivateKey: false,
      hasKeyPassphrase: false,
      pinnedHostKey: null,
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });
    const id: string = created.body.id;
    await t.api.get(`/api/servers/${id}`).expect(200, created.body);
    const list = await t.api.get('/api/servers').expect(200);
    expect(list.body).toEqual([created.body]);

    const patched = await t.api.patch(`/api/servers/${id}`).send({ sshPort: 2222, description: null, hostKeyFingerprint: FINGERPRINT }).expect(200);
    expect(patched.body).toEqual({ ...created.body, sshPort: 2222, description: null, hostKeyFingerprint: FINGERPRINT, updatedAt: expect.any(String) });
    expect(Date.parse(patched.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(created.body.updatedAt));
    await t.api.get(`/api/servers/${id}`).expect(200, patched.body);

    const deleted = await t.api.delete(`/api/servers/${id}`).expect(204);
    expect(deleted.text).toBe('');
    const gone = await t.api.get(`/api/servers/${id}`).expect(404);
    expect(gone.body).toEqual({ ...errorBody(404, 'SERVER_NOT_FOUND'), details: { id } });
    await t.api.delete(`/api/servers/${id}`).expect(404);
    await t.api.patch(`/api/servers/${id}`).send({ sshPort: 22 }).expect(404);
  });

  it('refuses a second server with the same name with 409, on create and on rename', async () => {
    await t.api.post('/api/servers').send(serverBody({ name: 'dup' })).expect(201);
    const clash = await t.api.post('/api/servers').send(serverBody({ name: 'dup' })).expect(409);
    expect(clash.body).toMatchObject(errorBody(409, 'SERVER_NAME_TAKEN'));
    const other = await t.api.post('/api/servers').send(serverBody({ name: 'dup-2' })).expect(201);
    await t.api.patch(`/api/servers/${other.body.id}`).send({ name: 'dup' }).expect(409);
    await t.api.patch(`/api/servers/${other.body.id}`).send({ name: 'dup-2' }).expect(200);
  });

  it('switches auth type: a PATCH to KEY_FILE drops the password, back to PASSWORD needs one', async () => {
    const { body } = await t.api.post('/api/servers').send(serverBody({ name: 'switcher' })).expect(201);
    const toKey = await t.api
      .patch(`/api/servers/${body.id}`)
      .send({ authType: 'KEY_FILE', sshPrivateKey: PRIVATE_KEY, sshKeyPassphrase: PASSPHRASE })
      .expect(200);
    expect(toKey.body).toMatchObject({ authType: 'KEY_FILE', hasPassword: false, hasPrivateKey: true, hasKeyPassphrase: true, sshKeyPath: null });
    const keyPath = join(keyDir, 'id_ed25519');
    const toPath = await t.api.patch(`/api/servers/${body.id}`).send({ sshKeyPath: keyPath, sshKeyPassphrase: null }).expect(200);
    expect(toPath.body).toMatchObject({ authType: 'KEY_FILE', hasPrivateKey: false, hasKeyPassphrase: false, sshKeyPath: keyPath });
    const refused = await t.api.patch(`/api/servers/${body.id}`).send({ authType: 'PASSWORD' }).expect(400);
    expect(refused.body).toMatchObject({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'sshPassword', messages: [expect.any(String)] }] });
    const back = await t.api.patch(`/api/servers/${body.id}`).send({ authType: 'PASSWORD', sshPassword: PASSWORD }).expect(200);
    expect(back.body).toMatchObject({ authType: 'PASSWORD', hasPassword: true, hasPrivateKey: false, sshKeyPath: null });
  });

  it('never returns a secret and stores none in clear text', async () => {
    const responses: unknown[] = [];
    const byPassword = await t.api.post('/api/servers').send(serverBody({ name: 'secret-pw', sshPassword: PASSWORD })).expect(201);
    const byKey = await t.api
      .post('/api/servers')
      .send(serverBody({ name: 'secret-key', authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: PRIVATE_KEY, sshKeyPassphrase: PASSPHRASE }))
      .expect(201);
    responses.push(byPassword.body, byKey.body);
    responses.push((await t.api.get('/api/servers').expect(200)).body);
    responses.push((await t.api.get(`/api/servers/${byKey.body.id}`).expect(200)).body);
    responses.push((await t.api.patch(`/api/servers/${byPassword.body.id}`).send({ sshPassword: PASSWORD }).expect(200)).body);
    responses.push((await t.api.post('/api/servers').send(serverBody({ name: 'secret-pw', sshPassword: PASSWORD })).expect(409)).body);
    responses.push((await t.api.post('/api/servers').send({ name: 'x', sshPassword: PASSWORD, sshKeyPassphrase: 7 }).expect(400)).body);
    responses.push((await t.api.post('/api/servers').set('Content-Type', 'application/json').send(`{"sshPassword":"${PASSWORD}",`).expect(400)).body);
    expectNoSecrets(responses);
    expect(logs.lines.some((line) => line.includes('Server created: secret-key'))).toBe(true);
    expectNoSecrets(logs.lines);
    expect(byKey.body).toMatchObject({ hasPassword: false, hasPrivateKey: true, hasKeyPassphrase: true });

    const rows = await db.rows('servers');
    expectNoSecrets(rows);
    expect(rows.find((r) => r.name === 'secret-pw')).toMatchObject({ ssh_password_enc: expect.stringMatching(/^v1:/) });
    if (db.file) {
      const bytes = readFileSync(db.file);
      for (const secret of SECRETS) expect(bytes.includes(Buffer.from(secret))).toBe(false);
      expect(bytes.includes(Buffer.from('secret-pw'))).toBe(true); // the scan does see plain columns
    }
  });

  it('echoes a caller X-Request-Id and makes one up otherwise', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const echoed = await t.api.get(`/api/servers/${id}`).set('X-Request-Id', 'trace-42').expect(404);
    expect(echoed.headers['x-request-id']).toBe('trace-42');
    expect(echoed.body.correlationId).toBe('trace-42');
    const ok = await t.api.get('/api/servers').set('X-Request-Id', 'trace-43').expect(200);
    expect(ok.headers['x-request-id']).toBe('trace-43');
    const made = await t.api.get(`/api/servers/${id}`).set('X-Request-Id', 'bad id\twith spaces').expect(404);
    expect(made.body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(made.headers['x-request-id']).toBe(made.body.correlationId);
  });
});
