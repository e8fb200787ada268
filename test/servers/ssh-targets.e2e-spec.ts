// Issue 6, item 6: SSH_TARGET_ALLOW / SSH_TARGET_DENY, checked after DNS at every connect, and one
// generic SSH_UNREACHABLE text whatever is (not) listening on the port.
import { createServer, type Server, type Socket } from 'node:net';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

const LINK_LOCAL = ['169.254.169.254', '169.254.0.1', '::ffff:169.254.169.254'];

describe('SSH targets over HTTP: default policy', () => {
  let t: TestApp;
  let user: TestUser;
  let sshd: SshdHost;
  let notSsh: Server;
  const sockets = new Set<Socket>();

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.8' });
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:' });
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
    for (const socket of sockets) socket.destroy();
    await new Promise((r) => (notSsh ? notSsh.close(r) : r(undefined)));
  });

  it.each(LINK_LOCAL)('refuses the link-local (cloud metadata) address %s at create and patch', async (host) => {
    const created = await t.api.post('/api/servers').send(sshServerBody(sshd, user, { host })).expect(400);
    expect(created.body).toEqual({ ...errorBody(400, 'VALIDATION_FAILED'), details: [{ field: 'host', messages: [expect.stringContaining('SSH_TARGET_DENY')] }] });
    const { body } = await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201);
    const patched = await t.api.patch(`/api/servers/${body.id}`).send({ host }).expect(400);
    expect(patched.body).toMatchObject({ details: [{ field: 'host' }] });
  });

  it('reaches any other host by default', async () => {
    const { body } = await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201);
    await expect(t.api.post(`/api/servers/${body.id}/exec`).send({ command: 'echo ok' })).resolves.toMatchObject({ status: 200, body: { stdout: 'ok\n' } });
  });

  it('answers a closed port and an open non-SSH port with the same SSH_UNREACHABLE text', async () => {
    notSsh = createServer((socket) => {
      sockets.add(socket);
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
    });
    await new Promise<void>((r) => notSsh.listen(0, '127.0.0.1', r));
    const openPort = (notSsh.address() as { port: number }).port;
    const closedPort = await freePort('127.0.0.1');
    const answers: string[] = [];
    for (const port of [closedPort, openPort]) {
      const { body } = await t.api.post('/api/servers').send(sshServerBody(sshd, user, { host: '127.0.0.1', sshPort: port })).expect(201);
      const res = await t.api.post(`/api/servers/${body.id}/exec`).send({ command: 'true' });
      expect(res.body).toEqual(errorBody(502, 'SSH_UNREACHABLE'));
      answers.push(res.body.message.replaceAll(String(port), '<port>'));
    }
    expect(answers[0]).toBe(answers[1]);
    expect(answers[0]).not.toMatch(/ECONNREFUSED|handshake|protocol/i);
  });
});

describe('SSH targets over HTTP: SSH_TARGET_DENY covers a name that resolves to a denied address', () => {
  let t: TestApp;
  let user: TestUser;
  let sshd: SshdHost;

  beforeAll(async () => {
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.1' });
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', SSH_TARGET_DENY: '169.254.0.0/16, 127.0.0.0/8' }); // ::1 is loopback too
  });
  afterAll(async () => {
    await t?.close();
    await sshd?.stop();
  });

  it('answers 403 SSH_TARGET_FORBIDDEN for localhost, sends nothing to sshd, and never backs off the host', async () => {
    const literal = await t.api.post('/api/servers').send(sshServerBody(sshd, user, { host: '127.0.0.1' })).expect(400);
    expect(literal.body).toMatchObject({ details: [{ field: 'host' }] });
    const { body } = await t.api.post('/api/servers').send(sshServerBody(sshd, user, { host: 'localhost' })).expect(201);
    for (let i = 0; i < 3; i++) {
      const res = await t.api.post(`/api/servers/${body.id}/exec`).send({ command: 'true' });
      expect(res.body).toEqual(errorBody(403, 'SSH_TARGET_FORBIDDEN'));
    }
    expect({ accepted: sshd.acceptedAuths(), failed: sshd.failedAuths(), open: sshd.openConnections() }).toEqual({ accepted: 0, failed: 0, open: 0 });
    const stats = await t.api.get('/api/server-status/pool/stats').expect(200);
    expect(stats.body.pool_stats).toMatchObject({ connect_failures: 0, total_connections: 0 });
  });

  it.each(['0.0.0.0', '0.1.2.3', '0x0', '::', '::ffff:0.0.0.0', '::ffff:0:0', '::1', '::ffff:127.0.0.1', '0x7f.1'])(
    'refuses %s at create: an unspecified or loopback address, however spelt',
    async (host) => {
      const res = await t.api.post('/api/servers').send(sshServerBody(sshd, user, { host }));
      expect({ status: res.status, details: res.body.details }).toEqual({ status: 400, details: [{ field: 'host', messages: [expect.stringContaining('SSH_TARGET_DENY')] }] });
    },
  );
});

describe('SSH targets over HTTP: SSH_TARGET_ALLOW', () => {
  let t: TestApp;
  let user: TestUser;
  let allowed: SshdHost;
  let other: SshdHost;

  beforeAll(async () => {
    user = loadTestUser();
    allowed = await startSshd({ address: '127.0.0.11' });
    other = await startSshd({ address: '127.0.0.12' });
    t = await createTestApp({ DATABASE_URL: 'sqlite::memory:', SSH_TARGET_ALLOW: '127.0.0.11/32' });
  });
  afterAll(async () => {
    await t?.close();
    await allowed?.stop();
    await other?.stop();
  });

  it('reaches only the listed addresses', async () => {
    const refused = await t.api.post('/api/servers').send(sshServerBody(other, user)).expect(400);
    expect(refused.body).toMatchObject({ details: [{ field: 'host', messages: [expect.stringContaining('SSH_TARGET_ALLOW')] }] });
    const { body } = await t.api.post('/api/servers').send(sshServerBody(allowed, user)).expect(201);
    await expect(t.api.post(`/api/servers/${body.id}/exec`).send({ command: 'echo ok' })).resolves.toMatchObject({ status: 200, body: { stdout: 'ok\n' } });
    expect(other.acceptedAuths()).toBe(0);
  });
});
