// Pool management over HTTP (issue 7 §1), each route's effect counted at real sshd.
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import type { ConnectionResponseDto } from '../../src/status/pool.dto.js';
import { createTestApp, errorBody, type TestApp } from '../support/app.js';
import { createTestDatabase, DATABASE_KINDS, type TestDatabase } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { GatedCommand, SwitchableProxy } from './pool-fixtures.js';

const CONNECTION = {
  id: expect.any(Number),
  key: expect.stringMatching(/^[\w.-]+@127\.0\.0\.1:\d+\/(PASSWORD|KEY_FILE)#[0-9a-f]{12}$/),
  host: '127.0.0.1',
  port: expect.any(Number),
  username: expect.any(String),
  authType: expect.stringMatching(/^(PASSWORD|KEY_FILE)$/),
  alive: true,
  retiring: false,
  createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  lastUsedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  ageSeconds: expect.any(Number),
  idleSeconds: expect.any(Number),
  channelsInUse: 0,
  channelLimit: expect.any(Number),
  commandsRun: expect.any(Number),
  serverIds: expect.any(Array),
};

describe.each(DATABASE_KINDS)('pool management routes against real sshd (%s)', (kind) => {
  let user: TestUser;
  let db: TestDatabase;
  let t: TestApp;
  let pool: SshPoolService;
  const hosts: SshdHost[] = [];
  const gates: GatedCommand[] = [];

  const host = async (): Promise<SshdHost> => {
    const started = await startSshd();
    hosts.push(started);
    return started;
  };
  const gate = (): GatedCommand => {
    const created = new GatedCommand();
    gates.push(created);
    return created;
  };
  const createServer = async (on: { host: string; port: number }, overrides: Record<string, unknown> = {}): Promise<string> =>
    (await t.api.post('/api/servers').send(sshServerBody(on as SshdHost, user, overrides)).expect(201)).body.id;
  const byKey = { authType: 'KEY_FILE', sshPassword: undefined } as const;
  const exec = (id: string, command: string) => t.api.post(`/api/servers/${id}/exec`).send({ command });
  const connectionsOn = async (on: SshdHost): Promise<ConnectionResponseDto[]> =>
    ((await t.api.get('/api/server-status/pool/connections').expect(200)).body.connections as ConnectionResponseDto[]).filter((c) => c.port === on.port);

  /** One host with two connections (password and key): one idle, one running a gated command. */
  const idleAndBusy = async () => {
    const h = await host();
    const idle = await createServer(h);
    const busy = await createServer(h, { ...byKey, sshPrivateKey: user.privateKey });
    await exec(idle, 'true').expect(200);
    const g = gate();
    const running = exec(busy, g.command).then((r) => r);
    await g.started();
    return { h, busy, g, running };
  };

  beforeAll(async () => {
    user = loadTestUser();
    db = await createTestDatabase(kind);
    // Idle after 2 s, and no scheduled cleanup: only the route under test closes connections.
    t = await createTestApp({ DATABASE_URL: db.url, POOL_IDLE_TIMEOUT_S: '2', POOL_CLEANUP_INTERVAL_S: '3600' });
    pool = t.app.get(SshPoolService);
  });
  beforeEach(async () => {
    await pool.closeAll();
    await eventually('the previous test to leave no connection', () => pool.getConnections().length === 0);
  });
  afterEach(() => {
    for (const g of gates.splice(0)) {
      g.open();
      g.remove();
    }
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(hosts.map((h) => h.stop()));
    await db?.drop();
  });

  it('GET pool/connections: one entry per connection sshd has, its servers and counters, no secret', async () => {
    const h = await host();
    const [a, b] = [await createServer(h), await createServer(h)];
    const k = await createServer(h, { ...byKey, sshPrivateKey: user.privateKey });
    for (const id of [a, b, a, k]) await exec(id, 'true').expect(200);

    const res = await t.api.get('/api/server-status/pool/connections').expect(200);
    expect(res.body).toEqual({ success: true, connections: expect.any(Array) });
    const mine = await connectionsOn(h);
    expect(mine).toHaveLength(h.openConnections());
    expect(mine).toEqual(
      expect.arrayContaining([
        { ...CONNECTION, authType: 'PASSWORD', port: h.port, username: user.username, commandsRun: 3, serverIds: [a, b].sort() },
        { ...CONNECTION, authType: 'KEY_FILE', port: h.port, username: user.username, commandsRun: 1, serverIds: [k] },
      ]),
    );
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(user.password);
    expect(text).not.toContain(user.privateKey.split('\n')[1]);
    expect(text).not.toMatch(/[0-9a-f]{32}/); // no full credential hash

    const g = gate();
    const running = exec(a, g.command).then((r) => r);
    await g.started();
    const busy = (await connectionsOn(h)).find((c) => c.serverIds.includes(a));
    expect(busy).toMatchObject({ channelsInUse: 1, idleSeconds: 0 });
    g.open();
    expect((await running).body.stdout).toBe('finished\n');
  });

  it('POST pool/cleanup closes the idle connection and keeps the busy one, counted at sshd', async () => {
    const { h, g, running } = await idleAndBusy();
    expect(h.openConnections()).toBe(2);
    await eventually('the idle connection to pass POOL_IDLE_TIMEOUT_S', () => pool.getConnections().some((c) => c.idleSeconds >= 2), 10_000);

    const res = await t.api.post('/api/server-status/pool/cleanup').expect(200);
    expect(res.body).toEqual({ success: true, removed: 1 });
    await h.waitFor(() => h.disconnects() === 1 && h.openConnections() === 1);
    g.open();
    expect((await running).body).toMatchObject({ exitCode: 0, stdout: 'finished\n' });
    expect(h.disconnects()).toBe(1);
  });

  it('POST pool/close-all closes idle connections now; a running command finishes, then its connection closes', async () => {
    const { h, busy, g, running } = await idleAndBusy();

    const res = await t.api.post('/api/server-status/pool/close-all').expect(200);
    expect(res.body).toEqual({ success: true, closed: 2, retiring: 1 });
    await h.waitFor(() => h.disconnects() === 1 && h.openConnections() === 1);
    expect(await connectionsOn(h)).toEqual([expect.objectContaining({ retiring: true, channelsInUse: 1 })]);

    // The retiring connection takes no new command: the next one authenticates a new connection.
    await expect(exec(busy, 'echo next')).resolves.toMatchObject({ status: 200, body: { stdout: 'next\n' } });
    expect(h.acceptedAuths()).toBe(3);
    g.open();
    expect((await running).body).toMatchObject({ exitCode: 0, stdout: 'finished\n' });
    await h.waitFor(() => h.disconnects() === 2 && h.openConnections() === 1);
    expect(await connectionsOn(h)).toEqual([expect.objectContaining({ retiring: false, serverIds: [busy] })]);
  });

  it("DELETE pool/connections/:serverId closes that server's key's connections and no other", async () => {
    const [h1, h2] = [await host(), await host()];
    const used = await createServer(h1);
    const sameKey = await createServer(h1); // never ran anything, but would use the same connection
    const other = await createServer(h2);
    await exec(used, 'true').expect(200);
    await exec(other, 'true').expect(200);

    const res = await t.api.delete(`/api/server-status/pool/connections/${sameKey}`).expect(200);
    expect(res.body).toEqual({ success: true, removed: 1, retiring: 0 });
    await h1.waitFor(() => h1.disconnects() === 1 && h1.openConnections() === 0);
    expect({ disconnects: h2.disconnects(), open: h2.openConnections() }).toEqual({ disconnects: 0, open: 1 });
    await expect(t.api.delete(`/api/server-status/pool/connections/${used}`)).resolves.toMatchObject({ status: 200, body: { removed: 0 } });

    const g = gate();
    const running = exec(other, g.command).then((r) => r);
    await g.started();
    const busy = await t.api.delete(`/api/server-status/pool/connections/${other}`).expect(200);
    expect(busy.body).toEqual({ success: true, removed: 1, retiring: 1 });
    expect(h2.openConnections()).toBe(1);
    g.open();
    expect((await running).body).toMatchObject({ exitCode: 0, stdout: 'finished\n' });
    await h2.waitFor(() => h2.disconnects() === 1 && h2.openConnections() === 0);
  });

  it('GET :serverId/connection says whether the server has a live connection, with its key', async () => {
    const h = await host();
    const id = await createServer(h);
    const before = await t.api.get(`/api/server-status/${id}/connection`).expect(200);
    expect(before.body).toEqual({
      success: true,
      serverId: id,
      key: expect.stringMatching(new RegExp(`^${user.username}@127\\.0\\.0\\.1:${h.port}/PASSWORD#[0-9a-f]{12}$`)),
      connected: false,
      hostDown: false,
      connections: [],
    });
    await exec(id, 'true').expect(200);
    const after = await t.api.get(`/api/server-status/${id.toUpperCase()}/connection`).expect(200);
    expect(after.body).toEqual({
      ...before.body,
      connected: true,
      connections: [{ ...CONNECTION, port: h.port, username: user.username, authType: 'PASSWORD', commandsRun: 1, serverIds: [id] }],
    });
    expect(h.openConnections()).toBe(1);
  });

  it('POST :serverId/reconnect opens a fresh connection and retires the old one, counted at sshd', async () => {
    const h = await host();
    const id = await createServer(h);
    await exec(id, 'true').expect(200);
    const [old] = await connectionsOn(h);

    const res = await t.api.post(`/api/server-status/${id}/reconnect`).expect(200);
    expect(res.body).toEqual({
      success: true,
      serverId: id,
      connection: { ...CONNECTION, port: h.port, username: user.username, authType: 'PASSWORD', commandsRun: 0, serverIds: [id] },
    });
    expect(res.body.connection.id).not.toBe(old.id);
    expect(h.acceptedAuths()).toBe(2);
    await h.waitFor(() => h.disconnects() === 1 && h.openConnections() === 1);
    await exec(id, 'true').expect(200);
    expect(h.acceptedAuths()).toBe(2);
  });

  it('50 concurrent POST :serverId/reconnect leave one connection for the key, counted at sshd', async () => {
    const h = await host();
    const id = await createServer(h);
    await exec(id, 'true').expect(200);
    const answers = await Promise.all(Array.from({ length: 50 }, () => t.api.post(`/api/server-status/${id}/reconnect`)));
    expect(answers.map((r) => r.status)).toEqual(answers.map(() => 200));
    expect(pool.getConnections().filter((c) => c.port === h.port && !c.retiring).length).toBe(1);
    await h.waitFor(() => h.openConnections() === 1, 10_000);
    await expect(t.api.post('/api/server-status/pool/cleanup').expect(200)).resolves.toMatchObject({ body: { removed: 0 } });
  });

  it('POST :serverId/reconnect answers the connect error, and tries again each time (no credential cooldown)', async () => {
    const h = await host();
    const id = await createServer(h, { sshPassword: 'not-the-password' });
    await exec(id, 'true').expect(502);
    const failures = h.failedAuths();
    for (let attempt = 1; attempt <= 2; attempt++) {
      const res = await t.api.post(`/api/server-status/${id}/reconnect`);
      expect({ status: res.status, body: res.body }).toEqual({ status: 502, body: errorBody(502, 'SSH_AUTH_FAILED') });
      expect(JSON.stringify(res.body)).not.toContain('not-the-password');
      await h.waitFor(() => h.failedAuths() > failures + attempt - 1);
    }
    expect(h.acceptedAuths()).toBe(0);
  });

  it("POST :serverId/reconnect clears the host's backoff; GET …/connection showed it", async () => {
    const h = await host();
    const proxy = await SwitchableProxy.start();
    try {
      const id = await createServer({ host: '127.0.0.1', port: proxy.port });
      // Three failed connects (waiting out the first backoff) put the host down for 1–2 s.
      await exec(id, 'true').expect(502);
      await exec(id, 'true').expect(502);
      const down = await exec(id, 'true').expect(503);
      await new Promise((resolve) => setTimeout(resolve, down.body.details.retryAfterMs + 20));
      await exec(id, 'true').expect(502);
      expect((await exec(id, 'true')).body).toMatchObject(errorBody(503, 'SSH_HOST_DOWN'));
      const status = await t.api.get(`/api/server-status/${id}/connection`).expect(200);
      expect(status.body).toMatchObject({ connected: false, hostDown: true, connections: [] });

      proxy.forwardTo = h;
      const res = await t.api.post(`/api/server-status/${id}/reconnect`);
      expect({ status: res.status, alive: res.body.connection?.alive }).toEqual({ status: 200, alive: true });
      expect(h.acceptedAuths()).toBe(1);
      await expect(t.api.get(`/api/server-status/${id}/connection`)).resolves.toMatchObject({ body: { connected: true, hostDown: false } });
      await expect(exec(id, 'echo back')).resolves.toMatchObject({ status: 200, body: { stdout: 'back\n' } });
      expect(h.acceptedAuths()).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});
