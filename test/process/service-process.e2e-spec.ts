import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { connect } from 'node:net';
import { join, relative } from 'node:path';
import { scratchDir } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';
import { eventually } from '../support/eventually.js';
import { firstValueFrom } from 'rxjs';

/** Whether something accepts TCP connections on the port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

const TOKEN = 'process-e2e-token-5f1c';
const ENTRY = join(process.cwd(), 'dist', 'main.js');

/** The built service as `npm start` runs it, collecting its JSON log lines. */
function startService(env: Record<string, string>): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  let output = '';
  const child = spawn(process.execPath, [ENTRY], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('the built service process (dist/main.js)', () => {
  let user: TestUser;
  let sshd: SshdHost;

  beforeAll(async () => {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: scripts/test.sh builds it before jest (npm run build)`);
    user = loadTestUser();
    sshd = await startSshd({ address: '127.0.0.11' });
  });
  afterAll(async () => {
    await sshd?.stop();
  });

  it('refuses to start on a bad environment, naming every bad variable', async () => {
    const service = startService({ PORT: 'eighty', SSH_POOL_ENABLED: 'maybe' });
    expect(await service.exited).toBe(1);
    expect(service.output()).toMatch(/PORT[\s\S]*SSH_POOL_ENABLED/);
  });

  it('refuses to start when SSH_KEY_DIR is open to other users, naming the directory', async () => {
    const keyDir = join(scratchDir('loose-keys'), 'keys');
    mkdirSync(keyDir);
    chmodSync(keyDir, 0o755);
    const service = startService({ SSH_KEY_DIR: keyDir, API_TOKENS: TOKEN, DATABASE_URL: 'sqlite::memory:', INTERNAL_TCP_PORT: '0' });
    expect(await service.exited).toBe(1);
    expect(service.output()).toContain(`SSH_KEY_DIR ${keyDir} has mode 0755, open to other users: run chmod 700 ${keyDir}`);
  });

  it('logs the generated token file by its absolute path when DATA_DIR is relative', async () => {
    const dataDir = scratchDir('token');
    const port = await freePort();
    const service = startService({ PORT: String(port), HOST: '127.0.0.1', INTERNAL_TCP_PORT: '0', DATA_DIR: relative(process.cwd(), dataDir), DATABASE_URL: 'sqlite::memory:' });
    try {
      await eventually('the service to listen', () => service.output().includes('HTTP listening'), 20_000);
      expect(service.output()).toContain(`token generated at ${join(dataDir, 'api-token')}`);
    } finally {
      service.child.kill('SIGKILL');
    }
  });

  it('on SIGTERM turns not-ready, lets a running command finish, closes its SSH connection and TCP transport, and exits 0', async () => {
    const port = await freePort();
    const tcpPort = await freePort();
    const dataDir = scratchDir('process');
    const service = startService({
      PORT: String(port),
      HOST: '127.0.0.1',
      INTERNAL_TCP_PORT: String(tcpPort),
      API_TOKENS: TOKEN,
      DATA_DIR: dataDir,
      DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
    });
    try {
      await eventually('the service to listen', () => service.output().includes('HTTP listening'), 20_000);
      expect(service.output()).toContain('SSH connection pool started');
      // SSH_KEY_DIR defaults to <DATA_DIR>/keys and is created at start, private to the service.
      const keys = statSync(join(dataDir, 'keys'));
      expect({ directory: keys.isDirectory(), mode: keys.mode & 0o777 }).toEqual({ directory: true, mode: 0o700 });
      expect(service.output()).toContain(`SSH_KEY_DIR ${join(dataDir, 'keys')} created (mode 0700)`);
      expect(service.output()).toContain(`Internal TCP transport listening on 127.0.0.1:${tcpPort}`);
      const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
      const rpc = (cmd: string, data: Record<string, unknown> = {}) => firstValueFrom(client.send({ cmd }, { token: TOKEN, ...data }));
      await expect(rpc('pool.stats')).resolves.toMatchObject({ success: true, pool_stats: { total_connections: 0 } });
      // Garbage on a second connection: that connection is dropped, the process lives on.
      const garbage = connect(tcpPort, '127.0.0.1');
      garbage.on('error', () => undefined);
      garbage.write('8#{"broken');
      await new Promise((resolve) => garbage.once('close', resolve));
      await expect(rpc('pool.stats')).resolves.toMatchObject({ success: true });
      const api = (path: string, init: RequestInit = {}) =>
        fetch(`http://127.0.0.1:${port}${path}`, {
          ...init,
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        });
      const created = await api('/api/servers', { method: 'POST', body: JSON.stringify(sshServerBody(sshd, user)) });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const sessionsBefore = sshd.sessionsStarted();
      const disconnectsBefore = sshd.disconnects();
      const running = api(`/api/servers/${id}/exec`, { method: 'POST', body: JSON.stringify({ command: 'sleep 1; echo drained' }) });
      // The first connection runs the connector's spare-channel feature test (`exit 7`) before the command.
      await sshd.waitFor(() => sshd.sessionsStarted() === sessionsBefore + 2);

      service.child.kill('SIGTERM');
      await eventually('the pool to start draining', () => service.output().includes('SSH connection pool shutting down'), 5000);
      const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
      expect(ready.status).toBe(503);
      const refused = await api(`/api/servers/${id}/exec`, { method: 'POST', body: JSON.stringify({ command: 'true' }) });
      expect(refused.status).toBe(503);
      expect(await refused.json()).toMatchObject({ code: 'POOL_SHUTTING_DOWN' });
      // The transport is still up while the pool drains, and refuses new work the same way.
      await expect(rpc('servers.exec', { id, command: 'true' })).rejects.toMatchObject({ statusCode: 503, code: 'POOL_SHUTTING_DOWN' });
      client.close();

      const response = await running;
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ exitCode: 0, stdout: 'drained\n' });
      expect(await service.exited).toBe(0);
      await sshd.waitFor(() => sshd.disconnects() === disconnectsBefore + 1);
      expect(service.output()).toContain('SSH connection pool stopped');
      expect(await accepts(tcpPort)).toBe(false);
    } finally {
      service.child.kill('SIGKILL');
    }
  });
});
