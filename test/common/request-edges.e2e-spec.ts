// The HTTP edge against careless or hostile bodies (issue 6 item 7): depth, prototype keys, content
// types, NUL bytes and id case. Runs on both databases: NUL is where SQLite and PostgreSQL differed.
import { CapturingLogger, createTestApp, errorBody, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

const fieldError = (status: number, code: string, field: string, message: unknown = expect.any(String)) => ({
  ...errorBody(status, code),
  details: expect.arrayContaining([{ field, messages: expect.arrayContaining([message]) }]),
});
const nulError = (field: string) => fieldError(400, 'VALIDATION_FAILED', field, `${field} must not contain NUL characters`);

/** `{"a":{"a":…}}` nested `depth` levels, built as text: JSON.stringify itself would recurse that deep. */
const nestedJson = (depth: number, leaf = '1'): string => '{"a":'.repeat(depth) + leaf + '}'.repeat(depth);

/** Every text field of a server, with a value that is valid apart from the NUL byte. */
const NUL_FIELDS: [field: string, body: Record<string, unknown>][] = [
  ['name', { name: 'eu\u00001' }],
  ['host', { host: 'host\u0000.example' }],
  ['sshUser', { sshUser: 'cs2\u0000' }],
  ['sshPassword', { sshPassword: 'pass\u0000word' }],
  ['sshKeyPassphrase', { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: '/keys/id_ed25519', sshKeyPassphrase: 'phrase\u0000' }],
  ['hostKeyFingerprint', { hostKeyFingerprint: `SHA256:${'A'.repeat(42)}\u0000` }],
  ['gameDirectory', { gameDirectory: '/home/cs2\u0000/serverfiles' }],
  ['description', { description: 'first\u0000second' }],
  ['sshKeyPath', { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: '/keys/id\u0000' }],
  [
    'sshPrivateKey',
    { authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: '-----BEGIN OPENSSH PRIVATE KEY-----\nAA\u0000AA\n-----END OPENSSH PRIVATE KEY-----\n' },
  ],
];

describe.each(DATABASE_KINDS)('request edges (%s)', (kind) => {
  let user: TestUser;
  let sshd: SshdHost;
  let db: TestDatabase;
  let t: TestApp;
  let logger: CapturingLogger;
  let serverId: string;

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    sshd = await startSshd();
    logger = new CapturingLogger();
    t = await createTestApp({ DATABASE_URL: db.url }, { logger });
    serverId = (await t.api.post('/api/servers').send(sshServerBody(sshd, user, { name: 'edge' })).expect(201)).body.id;
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  });

  const postJson = (path: string, raw: string) => t.api.post(path).set('Content-Type', 'application/json').send(raw);

  describe('nesting depth', () => {
    it.each([
      ['POST /api/servers', () => postJson('/api/servers', `{"name":"deep","description":${nestedJson(3000)}}`)],
      ['POST …/exec', () => postJson(`/api/servers/${serverId}/exec`, `{"command":${nestedJson(3000)}}`)],
      ['an array body', () => postJson('/api/servers', '['.repeat(3000) + ']'.repeat(3000))],
    ])('%s nested 3000 levels deep → 400 VALIDATION_FAILED, nothing logged as an error', async (_what, send) => {
      const before = logger.lines.length;
      const res = await send();
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: fieldError(400, 'VALIDATION_FAILED', 'body') });
      expect(logger.lines.slice(before).filter((line) => /Unhandled|RangeError|stack/i.test(line))).toEqual([]);
    });

    it('still accepts ordinary nesting (the bound is not hit by a normal body)', async () => {
      const res = await postJson('/api/servers', `{"name":"shallow","extra":${nestedJson(5)}}`);
      // Rejected for the unknown field, not for depth.
      expect(res.body).toEqual(fieldError(400, 'VALIDATION_FAILED', 'extra'));
    });
  });

  describe('prototype keys', () => {
    const keys = ['__proto__', 'constructor', 'prototype'];

    it.each(keys)('"%s" in a POST /api/servers body → 400 naming it', async (key) => {
      const body = JSON.stringify(serverBody({ name: `proto-${key.replace(/_/g, '')}` })).replace(/}$/, `,"${key}":{"isAdmin":true}}`);
      const res = await postJson('/api/servers', body);
      expect(res.body).toEqual(fieldError(400, 'VALIDATION_FAILED', key));
      expect(res.status).toBe(400);
    });

    it.each(keys)('"%s" in a PATCH and an exec body → 400 naming it, nothing changed or run', async (key) => {
      const sessions = sshd.sessionsStarted();
      const patch = await t.api.patch(`/api/servers/${serverId}`).set('Content-Type', 'application/json').send(`{"description":"x","${key}":{}}`);
      expect({ status: patch.status, body: patch.body }).toEqual({ status: 400, body: fieldError(400, 'VALIDATION_FAILED', key) });
      const exec = await postJson(`/api/servers/${serverId}/exec`, `{"command":"true","${key}":{"timeoutMs":1}}`);
      expect({ status: exec.status, body: exec.body }).toEqual({ status: 400, body: fieldError(400, 'VALIDATION_FAILED', key) });
      expect((await t.api.get(`/api/servers/${serverId}`).expect(200)).body.description).toBeNull();
      expect(sshd.sessionsStarted()).toBe(sessions);
    });
  });

  describe('content types', () => {
    it.each([
      ['form-encoded', 'application/x-www-form-urlencoded', 'command=id'],
      ['text/plain JSON', 'text/plain', '{"command":"id"}'],
      ['multipart', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="command"\r\n\r\nid\r\n--x--\r\n'],
      ['a JSON-looking vendor type', 'application/vnd.evil+json', '{"command":"id"}'],
    ])('a %s exec body → 415 UNSUPPORTED_MEDIA_TYPE, nothing runs', async (_what, type, raw) => {
      const sessions = sshd.sessionsStarted();
      const res = await t.api.post(`/api/servers/${serverId}/exec`).set('Content-Type', type).send(raw);
      expect({ status: res.status, body: res.body }).toEqual({ status: 415, body: errorBody(415, 'UNSUPPORTED_MEDIA_TYPE') });
      expect(sshd.sessionsStarted()).toBe(sessions);
    });

    it('a body without a Content-Type → 415; form-encoded POST/PATCH of servers → 415, registry unchanged', async () => {
      const before = (await t.api.get('/api/servers').expect(200)).body;
      const bare = await t.api.post(`/api/servers/${serverId}/exec`).set('Content-Type', '').send(Buffer.from('{"command":"id"}'));
      expect({ status: bare.status, body: bare.body }).toEqual({ status: 415, body: errorBody(415, 'UNSUPPORTED_MEDIA_TYPE') });
      const form = new URLSearchParams(serverBody() as Record<string, string>).toString();
      const created = await t.api.post('/api/servers').type('form').send(form);
      expect({ status: created.status, body: created.body }).toEqual({ status: 415, body: errorBody(415, 'UNSUPPORTED_MEDIA_TYPE') });
      const patched = await t.api.patch(`/api/servers/${serverId}`).type('form').send('description=x');
      expect({ status: patched.status, body: patched.body }).toEqual({ status: 415, body: errorBody(415, 'UNSUPPORTED_MEDIA_TYPE') });
      expect((await t.api.get('/api/servers').expect(200)).body).toEqual(before);
    });

    it('JSON (with or without charset=utf-8) still runs the command', async () => {
      const plain = await t.api.post(`/api/servers/${serverId}/exec`).send({ command: 'echo ok' }).expect(200);
      expect(plain.body.stdout).toBe('ok\n');
      const utf8 = await t.api.post(`/api/servers/${serverId}/exec`).set('Content-Type', 'Application/JSON; charset=UTF-8').send('{"command":"echo ok"}');
      expect({ status: utf8.status, stdout: utf8.body.stdout }).toEqual({ status: 200, stdout: 'ok\n' });
    });
  });

  describe('NUL bytes: refused as such in every text field', () => {
    it.each(NUL_FIELDS)('in %s on POST → 400 naming the field', async (field, overrides) => {
      const res = await t.api.post('/api/servers').send(serverBody(overrides));
      expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: nulError(field) });
    });

    it.each(NUL_FIELDS.filter(([field]) => !['sshKeyPath', 'sshPrivateKey', 'sshKeyPassphrase'].includes(field)))(
      'in %s on PATCH → 400 naming the field, record unchanged',
      async (field, overrides) => {
        const before = (await t.api.get(`/api/servers/${serverId}`).expect(200)).body;
        const res = await t.api.patch(`/api/servers/${serverId}`).send(overrides);
        expect({ status: res.status, body: res.body }).toEqual({ status: 400, body: nulError(field) });
        expect((await t.api.get(`/api/servers/${serverId}`).expect(200)).body).toEqual(before);
      },
    );
  });

  describe('id case', () => {
    it('finds, patches and runs on a server addressed by its upper-case id', async () => {
      const upper = serverId.toUpperCase();
      expect(upper).not.toBe(serverId);
      const got = await t.api.get(`/api/servers/${upper}`);
      expect({ status: got.status, id: got.body.id }).toEqual({ status: 200, id: serverId });
      const patched = await t.api.patch(`/api/servers/${upper}`).send({ description: 'upper' });
      expect({ status: patched.status, id: patched.body.id, description: patched.body.description }).toEqual({ status: 200, id: serverId, description: 'upper' });
      const exec = await t.api.post(`/api/servers/${upper}/exec`).send({ command: 'echo up' });
      expect({ status: exec.status, stdout: exec.body.stdout }).toEqual({ status: 200, stdout: 'up\n' });
    });

    it('deletes by a mixed-case id', async () => {
      const id: string = (await t.api.post('/api/servers').send(serverBody({ name: 'mixed-case' })).expect(201)).body.id;
      const mixed = id.replace(/[a-f]/g, (c, i: number) => (i % 2 ? c.toUpperCase() : c));
      await t.api.delete(`/api/servers/${mixed}`).expect(204);
      await t.api.get(`/api/servers/${id}`).expect(404);
    });
  });
});
