import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../test/support/eventually.js';
import { freePort } from '../test/support/sshd.js';

/** The built service (`node dist/main.js`) on loopback with its own SQLite file, for benchmarks through the HTTP API. */
export class ServiceProcess {
  private constructor(
    private readonly child: ChildProcess,
    readonly base: string,
    private readonly dataDir: string,
    private readonly token: string,
  ) {}

  static async start(env: Record<string, string>): Promise<ServiceProcess> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'cs2-bench-service-'));
    const token = randomBytes(16).toString('hex');
    const child = spawn(process.execPath, [join(process.cwd(), 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        ...env,
        PORT: String(port),
        HOST: '127.0.0.1',
        INTERNAL_TCP_PORT: '0',
        API_TOKENS: token,
        DATA_DIR: dataDir,
        DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    const service = new ServiceProcess(child, `http://127.0.0.1:${port}`, dataDir, token);
    let live = false;
    const poll = setInterval(() => void fetch(`${service.base}/health/live`).then((r) => (live = r.ok), () => undefined), 50);
    try {
      await eventually('dist/main.js to answer /health/live', () => live, 30_000);
    } finally {
      clearInterval(poll);
    }
    return service;
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.base}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  async stop(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGTERM');
    await exited;
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}
