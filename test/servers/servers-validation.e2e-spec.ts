import { createTestApp, serverBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';

interface BadRequest {
  what: string;
  method: 'post' | 'patch' | 'get' | 'delete';
  /** `:id` is replaced by an existing server's id. */
  path: string;
  body?: unknown;
  /** Sent as is with Content-Type application/json (bad JSON). */
  raw?: string;
  contentType?: string;
  status: number;
  code: string;
  field?: string;
}

const SERVERS = '/api/servers';
const ONE = `${SERVERS}/:id`;
const EXEC = `${SERVERS}/:id/exec`;
const KEY = '-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n';
const invalid = (what: string, field: string, body: Record<string, unknown>, method: 'post' | 'patch' = 'post'): BadRequest => ({
  what,
  method,
  path: method === 'post' ? SERVERS : ONE,
  body: method === 'post' ? serverBody(body) : body,
  status: 400,
  code: 'VALIDATION_FAILED',
  field,
});
const without = (field: string): Record<string, unknown> => {
  const body = serverBody();
  delete body[field];
  return body;
};

const CASES: BadRequest[] = [
  { ...invalid('name missing', 'name', {}), body: without('name') },
  invalid('name a number', 'name', { name: 123 }),
  invalid('name empty', 'name', { name: '' }),
  invalid('name oversized', 'name', { name: 'n'.repeat(65) }),
  invalid('name with shell metacharacters', 'name', { name: 'eu-1; rm -rf /' }),
  { ...invalid('host missing', 'host', {}), body: without('host') },
  invalid('host with a space and !', 'host', { host: 'bad host!' }),
  invalid('host a command substitution', 'host', { host: '$(reboot)' }),
  invalid('host oversized', 'host', { host: `${'a'.repeat(63)}.`.repeat(4) + 'com' }),
  invalid('host an impossible IPv4', 'host', { host: '999.1.1.1' }),
  invalid('host an array', 'host', { host: ['10.0.0.5'] }),
  invalid('sshPort a string', 'sshPort', { sshPort: '22' }),
  invalid('sshPort zero', 'sshPort', { sshPort: 0 }),
  invalid('sshPort above 65535', 'sshPort', { sshPort: 65536 }),
  invalid('sshPort fractional', 'sshPort', { sshPort: 22.5 }),
  invalid('sshUser with a semicolon', 'sshUser', { sshUser: 'root;id' }),
  invalid('sshUser an ssh option', 'sshUser', { sshUser: '-oProxyCommand=touch' }),
  invalid('sshUser oversized', 'sshUser', { sshUser: 'u'.repeat(33) }),
  invalid('sshUser null', 'sshUser', { sshUser: null }),
  invalid('authType unknown', 'authType', { authType: 'TOKEN' }),
  { ...invalid('authType missing', 'authType', {}), body: without('authType') },
  { ...invalid('PASSWORD without sshPassword', 'sshPassword', {}), body: without('sshPassword') },
  invalid('sshPassword empty', 'sshPassword', { sshPassword: '' }),
  invalid('sshPassword oversized', 'sshPassword', { sshPassword: 'p'.repeat(1025) }),
  invalid('sshPassword a number', 'sshPassword', { sshPassword: 12345 }),
  invalid('KEY_FILE without a key', 'sshKeyPath', { authType: 'KEY_FILE', sshPassword: undefined }),
  invalid('KEY_FILE with both key sources', 'sshPrivateKey', { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: '/k/id', sshPrivateKey: KEY }),
  invalid('KEY_FILE with a password', 'sshPassword', { authType: 'KEY_FILE', sshKeyPath: '/k/id' }),
  invalid('PASSWORD with a private key', 'sshPrivateKey', { sshPrivateKey: KEY }),
  invalid('sshKeyPath relative', 'sshKeyPath', { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: 'keys/id' }),
  invalid('sshKeyPath with ..', 'sshKeyPath', { authType: 'KEY_FILE', sshPassword: undefined, sshKeyPath: '/keys/../etc/shadow' }),
  invalid('sshPrivateKey not a key', 'sshPrivateKey', { authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: 'hello' }),
  invalid('sshPrivateKey oversized', 'sshPrivateKey', { authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: KEY.replace('AAAA', 'A'.repeat(17000)) }),
  invalid('hostKeyFingerprint MD5', 'hostKeyFingerprint', { hostKeyFingerprint: 'MD5:aa:bb:cc' }),
  invalid('hostKeyFingerprint truncated', 'hostKeyFingerprint', { hostKeyFingerprint: 'SHA256:abc' }),
  { ...invalid('gameDirectory missing', 'gameDirectory', {}), body: without('gameDirectory') },
  invalid('gameDirectory relative', 'gameDirectory', { gameDirectory: 'serverfiles' }),
  invalid('gameDirectory with $()', 'gameDirectory', { gameDirectory: '/home/cs2/$(rm -rf ~)' }),
  invalid('gameDirectory with backticks', 'gameDirectory', { gameDirectory: '/home/cs2/`id`' }),
  invalid('gameDirectory with ;', 'gameDirectory', { gameDirectory: '/home/cs2;reboot' }),
  invalid('gameDirectory with a space', 'gameDirectory', { gameDirectory: '/home/cs2/server files' }),
  invalid('gameDirectory with a newline', 'gameDirectory', { gameDirectory: '/home/cs2\n/tmp' }),
  invalid('gamePort a string', 'gamePort', { gamePort: 'abc' }),
  invalid('gamePort above 65535', 'gamePort', { gamePort: 70000 }),
  invalid('description oversized', 'description', { description: 'd'.repeat(1001) }),
  invalid('description an object', 'description', { description: { nested: true } }),
  invalid('unknown field isAdmin', 'isAdmin', { isAdmin: true }),
  invalid('client-chosen id', 'id', { id: '00000000-0000-4000-8000-000000000000' }),
  invalid('client-chosen createdAt', 'createdAt', { createdAt: '2020-01-01T00:00:00Z' }),
  { what: 'body a JSON array', method: 'post', path: SERVERS, body: [serverBody()], status: 400, code: 'VALIDATION_FAILED', field: 'body' },
  { what: 'body empty object', method: 'post', path: SERVERS, body: {}, status: 400, code: 'VALIDATION_FAILED', field: 'name' },
  { what: 'JSON cut short', method: 'post', path: SERVERS, raw: '{"name":', status: 400, code: 'MALFORMED_JSON' },
  { what: 'JSON with bare keys', method: 'post', path: SERVERS, raw: '{name: "x"}', status: 400, code: 'MALFORMED_JSON' },
  { what: 'JSON null', method: 'post', path: SERVERS, raw: 'null', status: 400, code: 'MALFORMED_JSON' },
  { what: 'JSON string', method: 'post', path: SERVERS, raw: '"eu-1"', status: 400, code: 'MALFORMED_JSON' },
  { what: 'body over 100 KiB', method: 'post', path: SERVERS, body: serverBody({ description: 'x'.repeat(200_000) }), status: 413, code: 'PAYLOAD_TOO_LARGE' },
  { what: 'unsupported charset', method: 'post', path: SERVERS, raw: '{}', contentType: 'application/json; charset=iso-8859-1', status: 415, code: 'UNSUPPORTED_MEDIA_TYPE' },
  invalid('PATCH name null', 'name', { name: null }, 'patch'),
  invalid('PATCH sshPort null', 'sshPort', { sshPort: null }, 'patch'),
  invalid('PATCH sshPort a string', 'sshPort', { sshPort: 'ssh' }, 'patch'),
  invalid('PATCH unknown field', 'owner', { owner: 'me' }, 'patch'),
  invalid('PATCH key fields onto a PASSWORD server', 'sshKeyPath', { sshKeyPath: '/keys/id' }, 'patch'),
  { what: 'PATCH body a JSON array', method: 'patch', path: ONE, body: [], status: 400, code: 'VALIDATION_FAILED', field: 'body' },
  { what: 'PATCH bad id', method: 'patch', path: `${SERVERS}/abc`, body: { sshPort: 22 }, status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { what: 'GET id not a UUID', method: 'get', path: `${SERVERS}/not-a-uuid`, status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { what: 'GET id an SQL fragment', method: 'get', path: `${SERVERS}/1%20OR%201=1`, status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { what: 'GET id badly percent-encoded', method: 'get', path: `${SERVERS}/%E0%A4%A`, status: 400, code: 'MALFORMED_URL' },
  { what: 'GET unknown server', method: 'get', path: `${SERVERS}/6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b`, status: 404, code: 'SERVER_NOT_FOUND' },
  { what: 'DELETE id a number', method: 'delete', path: `${SERVERS}/123`, status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { what: 'exec without command', method: 'post', path: EXEC, body: {}, status: 400, code: 'VALIDATION_FAILED', field: 'command' },
  { what: 'exec empty command', method: 'post', path: EXEC, body: { command: '' }, status: 400, code: 'VALIDATION_FAILED', field: 'command' },
  { what: 'exec command with NUL', method: 'post', path: EXEC, body: { command: 'echo a\u0000b' }, status: 400, code: 'VALIDATION_FAILED', field: 'command' },
  { what: 'exec command oversized', method: 'post', path: EXEC, body: { command: 'x'.repeat(16 * 1024 + 1) }, status: 400, code: 'VALIDATION_FAILED', field: 'command' },
  { what: 'exec command an array', method: 'post', path: EXEC, body: { command: ['ls', '-l'] }, status: 400, code: 'VALIDATION_FAILED', field: 'command' },
  { what: 'exec timeoutMs a string', method: 'post', path: EXEC, body: { command: 'true', timeoutMs: 'soon' }, status: 400, code: 'VALIDATION_FAILED', field: 'timeoutMs' },
  { what: 'exec timeoutMs too small', method: 'post', path: EXEC, body: { command: 'true', timeoutMs: 50 }, status: 400, code: 'VALIDATION_FAILED', field: 'timeoutMs' },
  { what: 'exec timeoutMs too large', method: 'post', path: EXEC, body: { command: 'true', timeoutMs: 1e9 }, status: 400, code: 'VALIDATION_FAILED', field: 'timeoutMs' },
  { what: 'exec unknown field', method: 'post', path: EXEC, body: { command: 'true', sudo: true }, status: 400, code: 'VALIDATION_FAILED', field: 'sudo' },
  { what: 'exec on a bad id', method: 'post', path: `${SERVERS}/x/exec`, body: { command: 'true' }, status: 400, code: 'VALIDATION_FAILED', field: 'id' },
  { what: 'exec on an unknown server', method: 'post', path: `${SERVERS}/6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b/exec`, body: { command: 'true' }, status: 404, code: 'SERVER_NOT_FOUND' },
];

describe.each(DATABASE_KINDS)('malformed requests (%s)', (kind) => {
  let db: TestDatabase;
  let t: TestApp;
  let existing: Record<string, unknown>;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    t = await createTestApp({ DATABASE_URL: db.url });
    existing = (await t.api.post('/api/servers').send(serverBody({ name: 'existing' })).expect(201)).body;
  });
  afterAll(async () => {
    await t?.close();
    await db?.drop();
  });

  it('has a battery of at least 40 cases', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES.map((c) => [c.what, c] as const))('%s → 4xx with the error body', async (_what, c) => {
    const path = c.path.replace(':id', String(existing.id));
    let req = t.api[c.method](path);
    if (c.raw !== undefined || c.contentType) req = req.set('Content-Type', c.contentType ?? 'application/json');
    const res = await (c.raw !== undefined ? req.send(c.raw) : c.body !== undefined ? req.send(c.body as object) : req);
    expect({ status: res.status, body: res.body }).toEqual({
      status: c.status,
      body: {
        statusCode: c.status,
        code: c.code,
        message: expect.any(String),
        correlationId: expect.any(String),
        ...(c.field ? { details: expect.arrayContaining([{ field: c.field, messages: expect.arrayContaining([expect.any(String)]) }]) } : {}),
        ...(c.code === 'SERVER_NOT_FOUND' ? { details: expect.any(Object) } : {}),
      },
    });
    expect(res.headers['x-request-id']).toBe(res.body.correlationId);
  });

  it('left the registry untouched', async () => {
    const list = await t.api.get('/api/servers').expect(200);
    expect(list.body).toEqual([existing]);
  });
});
