// `npm run bench:api`: what the HTTP API adds to an exec, on loopback, through the built service.
// For each build named in BENCH_DISTS (default `dist`; e.g. `dist,.base-dist` to set a change beside the
// code before it) it starts `node <build>/main.js` on SQLite, one real sshd for all of them, and one
// server with password auth each. Then, interleaved in blocks across the builds, from one keep-alive
// client: GET /health/live (the HTTP floor) and POST /api/servers/:id/exec `true`.
// overhead = (API exec − the pool's own durationMs) − floor. Prints markdown.
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { ServiceProcess } from '../test/support/service-process.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import { loadTestUser, startSshd } from '../test/support/sshd.js';
import { median } from './stats.js';
import { poolExecSeconds } from './suite/common.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 1000);
const BLOCK = 50;
const DISTS = (process.env.BENCH_DISTS ?? 'dist').split(',').map((d) => d.trim()).filter(Boolean);

interface Reply {
  status: number;
  body: string;
  ms: number;
}

/** One keep-alive socket per service, so every request pays the same client and TCP costs. */
class Service {
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 1 });
  serverId = '';
  readonly floor: number[] = [];
  readonly api: number[] = [];
  readonly pool: number[] = [];
  readonly overhead: number[] = [];
  /** The service's own view: its HTTP timing (middleware to finish) of the exec − the pool's − of /health/live. */
  readonly inside: number[] = [];

  private constructor(
    readonly dist: string,
    private readonly process: ServiceProcess,
  ) {}

  static async start(dist: string): Promise<Service> {
    const env = { LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' };
    const nodeArgs = process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? [];
    return new Service(dist, await ServiceProcess.start(env, { dist, nodeArgs }));
  }

  call(method: string, path: string, body?: unknown): Promise<Reply> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string> = { authorization: `Bearer ${this.process.token}` };
    if (payload !== undefined) Object.assign(headers, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
    return new Promise((done, fail) => {
      const started = performance.now();
      const req = request({ host: '127.0.0.1', port: this.process.port, method, path, headers, agent: this.agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => done({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), ms: performance.now() - started }));
      });
      req.on('error', fail);
      req.end(payload);
    });
  }

  async expect(method: string, path: string, status: number, body?: unknown): Promise<Reply> {
    const reply = await this.call(method, path, body);
    if (reply.status !== status) throw new Error(`${this.dist}: ${method} ${path}: ${reply.status} ${reply.body}`);
    return reply;
  }

  /**
   * One floor sample and one exec sample. durationMs is rounded to whole milliseconds, too coarse for
   * a 0.5 ms budget, so the pool's own time is the growth of its exec histogram's sum (read untimed).
   */
  async sample(): Promise<void> {
    const before = await this.serviceSeconds();
    const live = await this.expect('GET', '/health/live', 200);
    const exec = await this.expect('POST', `/api/servers/${this.serverId}/exec`, 200, { command: 'true' });
    const after = await this.serviceSeconds();
    const pool = (after.pool - before.pool) * 1000;
    this.floor.push(live.ms);
    this.api.push(exec.ms);
    this.pool.push(pool);
    this.overhead.push(exec.ms - pool - live.ms);
    this.inside.push((after.http - before.http) * 1000 - pool - (after.live - before.live) * 1000);
  }

  /** Sums (seconds) of the pool's exec histogram and of the HTTP histogram for the exec and live routes, from /metrics. */
  private async serviceSeconds(): Promise<{ pool: number; http: number; live: number }> {
    const text = (await this.expect('GET', '/metrics', 200)).body;
    const sum = (pattern: RegExp) => [...text.matchAll(pattern)].reduce((total, match) => total + Number(match[1]), 0);
    return {
      pool: poolExecSeconds(text),
      http: sum(/^cs2_ssh_pool_http_request_duration_seconds_sum\{[^}]*route="\/api\/servers\/:id\/exec"[^}]*\} (\S+)$/gm),
      live: sum(/^cs2_ssh_pool_http_request_duration_seconds_sum\{[^}]*route="\/health\/live"[^}]*\} (\S+)$/gm),
    };
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    await this.process.stop();
  }
}

const f = (value: number) => value.toFixed(2);
const quantile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.floor(p * (values.length - 1))];

async function main(): Promise<void> {
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.9' });
  const services: Service[] = [];
  try {
    for (const dist of DISTS) services.push(await Service.start(dist));
    for (const service of services) {
      const created = await service.expect('POST', '/api/servers', 201, sshServerBody(sshd, user));
      service.serverId = (JSON.parse(created.body) as { id: string }).id;
      for (let i = 0; i < 100; i++) await service.sample(); // connect, warm up the JIT
      for (const samples of [service.floor, service.api, service.pool, service.overhead, service.inside]) samples.length = 0;
    }
    for (let done = 0; done < RUNS; done += BLOCK) {
      for (const service of services) for (let i = 0; i < BLOCK; i++) await service.sample();
    }
    console.log(report(services));
    if (process.env.BENCH_SAMPLES_FILE) {
      const samples = services.map(({ dist, floor, api, pool, overhead, inside }) => ({ dist, floor, api, pool, overhead, inside }));
      writeFileSync(process.env.BENCH_SAMPLES_FILE, JSON.stringify(samples));
    }
  } finally {
    await Promise.all(services.map((s) => s.stop()));
    await sshd.stop();
  }
}

function report(services: Service[]): string {
  const rows = services.map((s) => {
    const medians = [s.floor, s.api, s.pool].map((values) => f(median(values))).join(' | ');
    const q = (p: number) => f(quantile(s.overhead, p));
    return `| \`${s.dist}\` | ${medians} | ${f(median(s.api) - median(s.pool) - median(s.floor))} | ${f(median(s.overhead))} (${q(0.25)}–${q(0.75)}) | ${f(median(s.inside))} |`;
  });
  return [
    `Run ${new Date().toISOString()}, node ${process.version}, ${RUNS} samples per build, interleaved in blocks of ${BLOCK}; exec \`true\`, loopback, SQLite.`,
    '',
    '| build (medians, ms) | floor: GET /health/live | API exec | pool exec | overhead: API − pool − floor (of the medians) | overhead: median of per-sample overheads (p25–p75) | inside the service: its HTTP timing of exec − pool − of /health/live |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
