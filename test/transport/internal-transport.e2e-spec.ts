import { existsSync, readFileSync, rmSync } from 'node:fs';
import type { TestApp } from '../support/app.js';
import { remoteScratchPath } from '../support/ssh-servers.js';
import type { SshdHost, TestUser } from '../support/sshd.js';
import { type RpcCaller, rpcError, startTransportFixture, type TransportFixture } from './rpc-peers.js';

describe('internal TCP transport (ClientProxy against the running app and real sshd)', () => {
  let fixture: TransportFixture;
  let user: TestUser;
  let sshd: SshdHost;
  let t: TestApp;
  let rpc: RpcCaller;
  let id: string;

  beforeAll(async () => {
    fixture = await startTransportFixture('127.0.0.12');
    ({ user, sshd, t, rpc, id } = fixture);
  });
  afterAll(() => fixture?.close());

  it('answers pool.stats, servers.list and servers.get with the REST bodies', async () => {
    expect(await rpc.call('pool.stats')).toEqual((await t.api.get('/api/server-status/pool/stats').expect(200)).body);
    expect(await rpc.call('servers.list')).toEqual((await t.api.get('/api/servers').expect(200)).body);
    const rest = (await t.api.get(`/api/servers/${id}`).expect(200)).body;
    expect(await rpc.call('servers.get', { id })).toEqual(rest);
    // Ids are compared in lower case over both transports.
    expect(await rpc.call('servers.get', { id: id.toUpperCase() })).toEqual(rest);
    expect(JSON.stringify(rest)).not.toContain(user.password);
  });

  it('runs servers.exec on the host: one session at sshd, the REST exec shape', async () => {
    const sessions = sshd.sessionsStarted();
    const reply = await rpc.call('servers.exec', { id, command: 'echo out; echo err >&2; exit 3' });
    expect(reply).toEqual({ exitCode: 3, signal: null, stdout: 'out\n', stderr: 'err\n', durationMs: expect.any(Number), truncated: false });
    // The app's first connection also runs the spare-channel feature test (`exit 7`): one more session.
    await sshd.waitFor(() => sshd.sessionsStarted() === sessions + 2);
    expect(sshd.sessionsStarted()).toBe(sessions + 2);
  });

  it('refuses a missing or wrong token with 401 UNAUTHORIZED before running anything', async () => {
    const sessions = sshd.sessionsStarted();
    await expect(rpc.call('servers.exec', { id, command: 'true', token: 'wrong-token' })).rejects.toEqual(rpcError(401, 'UNAUTHORIZED'));
    await expect(rpc.call('pool.stats', { token: undefined })).rejects.toEqual(rpcError(401, 'UNAUTHORIZED'));
    await expect(rpc.call('servers.list', { token: 42 })).rejects.toEqual(rpcError(401, 'UNAUTHORIZED'));
    expect(sshd.sessionsStarted()).toBe(sessions);
  });

  it('validates payloads with the REST DTOs: 400 VALIDATION_FAILED naming each field, unknown keys refused', async () => {
    await expect(rpc.call('servers.exec', { id, command: '', timeoutMs: 5, shell: 'bash' })).rejects.toEqual(
      rpcError(400, 'VALIDATION_FAILED', {
        details: expect.arrayContaining([
          { field: 'shell', messages: ['property shell should not exist'] },
          { field: 'command', messages: [expect.any(String)] },
          { field: 'timeoutMs', messages: [expect.any(String)] },
        ]),
      }),
    );
    await expect(rpc.call('servers.get', { id: 'not-a-uuid' })).rejects.toEqual(
      rpcError(400, 'VALIDATION_FAILED', { details: [{ field: 'id', messages: ['id must be a UUID'] }] }),
    );
    await expect(rpc.call('status.get', {})).rejects.toEqual(rpcError(400, 'VALIDATION_FAILED', { details: [{ field: 'serverId', messages: expect.any(Array) }] }));
    await expect(rpc.call('pool.stats', { verbose: true })).rejects.toEqual(
      rpcError(400, 'VALIDATION_FAILED', { details: [{ field: 'verbose', messages: ['property verbose should not exist'] }] }),
    );
  });

  it('maps a timeout to 504 EXEC_TIMEOUT and stops the remote command', async () => {
    const pidFile = remoteScratchPath('rpc-pid');
    try {
      await expect(rpc.call('servers.exec', { id, command: `echo $$ > ${pidFile}; exec sleep 60`, timeoutMs: 1000 })).rejects.toEqual(
        rpcError(504, 'EXEC_TIMEOUT'),
      );
      const pid = Number(readFileSync(pidFile, 'utf8').trim());
      await sshd.waitFor(() => !existsSync(`/proc/${pid}`));
    } finally {
      rmSync(pidFile, { force: true });
    }
  });

  it('answers SERVER_NOT_FOUND with its details, and echoes an acceptable caller correlation id', async () => {
    const unknown = '00000000-0000-4000-8000-000000000000';
    await expect(rpc.call('servers.get', { id: unknown })).rejects.toEqual(rpcError(404, 'SERVER_NOT_FOUND', { details: { id: unknown } }));
    await expect(rpc.call('servers.exec', { id: unknown, command: 'true', correlationId: 'job-7:1' })).rejects.toEqual({
      ...rpcError(404, 'SERVER_NOT_FOUND', { details: { id: unknown } }),
      correlationId: 'job-7:1',
    });
  });

  it('serves the status and pool management operations with the REST bodies', async () => {
    await rpc.call('servers.exec', { id, command: 'true' });
    expect(await rpc.call('status.connection', { serverId: id })).toEqual((await t.api.get(`/api/server-status/${id}/connection`).expect(200)).body);
    expect(await rpc.call('pool.connections')).toEqual((await t.api.get('/api/server-status/pool/connections').expect(200)).body);
    // Status answers come from one probe per host, cached: both transports see the same one.
    const one = await rpc.call('status.get', { serverId: id });
    expect(one).toEqual((await t.api.get(`/api/server-status/${id}`).expect(200)).body);
    expect(one).toMatchObject({ serverId: id, reachable: true, running: false });
    expect(await rpc.call('status.all')).toEqual([one]);

    const reconnected = await rpc.call<{ connection: { id: string } }>('status.reconnect', { serverId: id });
    expect(reconnected).toMatchObject({ success: true, serverId: id, connection: { alive: true, serverIds: [id] } });
    expect(await rpc.call('pool.remove', { serverId: id })).toEqual({ success: true, removed: 1, retiring: 0 });
    await rpc.call('servers.exec', { id, command: 'true' });
    expect(await rpc.call('pool.cleanup')).toEqual({ success: true, removed: 0 });
    expect(await rpc.call('pool.close-all')).toEqual({ success: true, closed: 1, retiring: 0 });
    expect(await rpc.call('pool.stats')).toMatchObject({ success: true, pool_stats: { total_connections: 0 } });
  });
});

