// The built service (`node dist/main.js`) as a child process on loopback, with its own data dir, a
// known API token and SQLite unless DATABASE_URL is given: one helper for the benchmarks and specs
// that need the real process rather than an in-process Nest app.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { eventually } from './eventually.js';
import { freePort } from './sshd.js';

export interface ApiResponse<T = unknown> {
  status: number;
  body: T;
}

export class ServiceProcess {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly port: number,
    readonly base: string,
    readonly token: string,
    private readonly dataDir: string,
  ) {
    const keep = (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-65_536)); // the tail is enough to say why
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts `<dist>/main.js` (default dist/) with `env` over a minimal environment, and resolves once
   * /health/live answers. `nodeArgs` go before the script (e.g. --cpu-prof).
   */
  static async start(env: Record<string, string> = {}, options: { dist?: string; nodeArgs?: string[] } = {}): Promise<ServiceProcess> {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), 'cs2-service-'));
    const token = randomBytes(16).toString('hex');
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), resolve(options.dist ?? 'dist', 'main.js')], {
      env: {
        PATH: process.env.PATH ?? '', HOST: '127.0.0.1', PORT: String(port), INTERNAL_TCP_PORT: '0', API_TOKENS: token,
        DATA_DIR: dataDir, DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`, LOG_LEVEL: 'warn', ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const service = new ServiceProcess(child, port, `http://127.0.0.1:${port}`, token, dataDir);
    const live = () => fetch(`${service.base}/health/live`).then((r) => r.ok, () => false);
    let up = false;
    const poll = setInterval(() => void live().then((ok) => (up ||= ok)), 50);
    try {
      await eventually(() => `${options.dist ?? 'dist'}/main.js to answer /health/live; output:\n${service.output.slice(-2000)}`, () => {
        if (child.exitCode !== null) throw new Error(`main.js exited ${child.exitCode}:\n${service.output.slice(-2000)}`);
        return up;
      }, 30_000);
    } finally {
      clearInterval(poll);
    }
    return service;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  headers(): Record<string, string> {
    return { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' };
  }

  /** Any status; the body parsed as JSON when there is one. */
  async request<T = unknown>(method: string, path: string, body?: unknown): Promise<ApiResponse<T>> {
    const res = await fetch(`${this.base}${path}`, { method, headers: this.headers(), body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  /** A 2xx body, or throws with the status and body. */
  async api<T = unknown>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await this.request<T>(method, path, body);
    if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  }

  /** Resident set size of the process, from /proc. */
  rssBytes(): number {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${this.pid}/status`, 'utf8'));
    return Number(match?.[1] ?? 0) * 1024;
  }

  logs(): string {
    return this.output;
  }

  /** SIGTERM, waits for the exit (the service closes its SSH connections first), removes the data dir. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((resolve) => this.child.once('exit', () => resolve()));
      this.child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dataDir, { recursive: true, force: true });
    return this.child.exitCode;
  }
}
