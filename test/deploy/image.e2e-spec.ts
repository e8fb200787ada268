// The production image, proven without a container engine (`npm run check:image`): the Dockerfile's
// stages are replayed into a scratch directory (npm ci, build, prune), then the final stage's CMD
// runs as its unprivileged USER with the image's ENV, the tree read-only and only the VOLUME
// writable. It must answer /health/ready, run one command at a real sshd, and write nothing else.
import { type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost } from '../support/sshd.js';
import { filesWrittenBy, ImageReplay, listTree, unusedUid, type ImageRuntime } from './image-replay.js';

const CONTEXT = process.cwd();
const report: string[] = [];

interface Service {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function start(replay: ImageReplay, image: ImageRuntime, env: Record<string, string>): Service {
  let output = '';
  const child = replay.spawn(image, image.argv, env);
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('the Docker image, replayed without a container engine', () => {
  const user = unusedUid(process.env.CS2_TEST_DIR ?? 'image');
  let replay: ImageReplay;
  let image: ImageRuntime;
  let volumes: string[];
  let sshd: SshdHost;
  let workspace: string | undefined;

  beforeAll(async () => {
    workspace = scratchDir('image');
    chmodSync(workspace, 0o755); // the unprivileged user must reach /app through it, as in a container
    replay = new ImageReplay(CONTEXT, workspace, user, (line) => report.push(line));
    image = await replay.build();
    volumes = image.volumes.map((v) => replay.hostPath(image, v));
    // The image's files belong to root and nobody may write them; only the volumes are the user's.
    for (const entry of listTree(image.root, volumes).keys()) {
      const path = join(image.root, entry);
      if (!lstatSync(path).isSymbolicLink()) chmodSync(path, statSync(path).mode & ~0o222);
    }
    sshd = await startSshd({ address: '127.0.0.31' });
  }, 15 * 60_000);

  afterAll(async () => {
    await sshd?.stop();
    if (workspace) rmSync(workspace, { recursive: true, force: true }); // two copies of node_modules
    if (report.length > 0) console.log(`image check:\n  ${report.join('\n  ')}`);
  });

  it('keeps the image as built: unprivileged USER, production ENV, data VOLUME, ports 3000, 3001 and 3002', () => {
    expect(image.user).toBe('node');
    expect(image.env).toMatchObject({ NODE_ENV: 'production', DATA_DIR: '/app/data', PORT: '3000', INTERNAL_TCP_PORT: '3001', HEALTH_PORT: '3002' });
    expect(image.volumes).toEqual(['/app/data']);
    expect(image.exposed).toEqual([3000, 3001, 3002]);
    expect(image.argv).toEqual(['node', 'dist/main.js']);
  });

  it('ships every runtime dependency and no devDependency', () => {
    const pkg = JSON.parse(readFileSync(replay.hostPath(image, '/app/package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
    const modules = replay.hostPath(image, '/app/node_modules');
    const missing = Object.keys(pkg.dependencies).filter((name) => !existsSync(join(modules, name, 'package.json')));
    expect(missing).toEqual([]);
    const installed = JSON.parse(readFileSync(join(modules, '.package-lock.json'), 'utf8')) as { packages: Record<string, { dev?: boolean }> };
    const devOnly = Object.entries(installed.packages).filter(([, p]) => p.dev).map(([path]) => path);
    expect(devOnly).toEqual([]);
    expect(Object.keys(pkg.devDependencies).filter((name) => existsSync(join(modules, name)))).toEqual([]);
  });

  it('lets the image user write the data volume and nothing else of the image', async () => {
    await expect(replay.run(image, ['/bin/sh', '-c', 'touch /app/data/.probe && rm /app/data/.probe'])).resolves.toBe('');
    for (const path of ['/app/dist/main.js', '/app/new-file', '/app/node_modules/new-file']) {
      await expect(replay.run(image, ['/bin/sh', '-c', `touch ${path}`])).rejects.toThrow(/Permission denied|Read-only/);
    }
  });

  it('starts as the image user, is ready, runs a command at sshd, and writes only under the data volume', async () => {
    const before = listTree(image.root, volumes);
    const startedAt = Date.now();
    const port = await freePort();
    const service = start(replay, image, { HOST: '127.0.0.1', PORT: String(port), INTERNAL_TCP_PORT: String(await freePort()), HEALTH_PORT: String(await freePort()) });
    try {
      const base = `http://127.0.0.1:${port}`;
      await eventually(() => `the image to listen; output:\n${service.output()}`, () => service.output().includes('HTTP listening') || service.child.exitCode !== null, 60_000);
      if (service.child.exitCode !== null) throw new Error(`the image exited ${service.child.exitCode} at start:\n${service.output()}`);
      report.push(`started as uid ${user.uid} (USER ${image.user}) and listening after ${Date.now() - startedAt} ms`);
      expect(readFileSync(`/proc/${service.child.pid}/status`, 'utf8')).toMatch(new RegExp(`^Uid:\\s+${user.uid}\\s`, 'm'));
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ status: 'ok', info: { ssh_pool: { status: 'up' }, database: { status: 'up' } } });

      // No API_TOKENS in the environment: the image generated one into its data volume.
      const token = readFileSync(join(replay.hostPath(image, '/app/data'), 'api-token'), 'utf8').trim();
      const api = (path: string, body: unknown) =>
        fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const created = await api('/api/servers', sshServerBody(sshd, loadTestUser()));
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      const sessions = sshd.sessionsStarted();
      const exec = await api(`/api/servers/${id}/exec`, { command: 'echo image-ok' });
      expect(exec.status).toBe(200);
      expect(await exec.json()).toMatchObject({ exitCode: 0, stdout: 'image-ok\n' });
      // The service's first connection also runs the spare-channel feature test (`exit 7`): one more session.
      await sshd.waitFor(() => sshd.sessionsStarted() === sessions + 2);
      report.push('GET /health/ready 200; POST /api/servers 201; exec "echo image-ok" 200 (1 session at sshd, plus the spare-channel feature test)');

      service.child.kill('SIGTERM');
      expect(await service.exited).toBe(0);
    } finally {
      service.child.kill('SIGKILL');
    }
    expect(listTree(image.root, volumes)).toEqual(before);
    expect(filesWrittenBy(user.uid, startedAt, volumes)).toEqual([]);
    const data = listTree(volumes[0]);
    expect([...data.keys()].sort()).toEqual(expect.arrayContaining(['api-token', 'credentials.key', 'cs2-ssh-pool.sqlite']));
    report.push(`wrote only ${volumes[0]}: ${[...data.keys()].sort().join(', ')}`);
  }, 120_000);

  it('would notice a file the image user leaves outside the data volume', async () => {
    const startedAt = Date.now();
    const leak = `/tmp/cs2-image-leak-${process.pid}`;
    await replay.run(image, ['/bin/sh', '-c', `touch ${leak}`]);
    try {
      expect(filesWrittenBy(user.uid, startedAt, volumes)).toEqual([leak]);
    } finally {
      rmSync(leak, { force: true });
    }
  }, 60_000);

  it('would notice a runtime dependency missing from the pruned tree: the image does not start', async () => {
    const modules = replay.hostPath(image, '/app/node_modules');
    renameSync(join(modules, 'prom-client'), join(modules, '.prom-client-hidden'));
    try {
      const service = start(replay, image, { HOST: '127.0.0.1', PORT: String(await freePort()), INTERNAL_TCP_PORT: '0' });
      expect(await service.exited).not.toBe(0);
      expect(service.output()).toMatch(/ERR_MODULE_NOT_FOUND[\s\S]*prom-client|prom-client[\s\S]*ERR_MODULE_NOT_FOUND/);
    } finally {
      renameSync(join(modules, '.prom-client-hidden'), join(modules, 'prom-client'));
    }
  }, 60_000);
});
