// `npm run bench:transport`: round-trip latency of the same operations over HTTP and over the internal
// TCP transport, against the built service (node dist/main.js) and one real sshd: pool.stats (no I/O)
// and an exec of `true` on a pooled connection. Calls alternate between the transports so that both
// see the same machine noise. Prints a markdown table of medians and 90th percentiles.
import { ClientProxyFactory, Transport } from '@nestjs/microservices';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { firstValueFrom } from 'rxjs';
import { eventually } from '../test/support/eventually.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import { freePort, loadTestUser, startSshd } from '../test/support/sshd.js';
import { median, ms } from './stats.js';

const CALLS = Number(process.env.BENCH_CALLS ?? 300);
const WARMUP = 30;
const TOKEN = randomBytes(16).toString('hex');

const p90 = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length * 0.9)];

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main(): Promise<void> {
  const sshd = await startSshd({ address: '127.0.0.30' });
  const [port, tcpPort] = [await freePort(), await freePort()];
  const dataDir = mkdtempSync(join(tmpdir(), 'cs2-transport-bench-'));
  const child = spawn(process.execPath, ['dist/main.js'], {
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', INTERNAL_TCP_PORT: String(tcpPort), API_TOKENS: TOKEN, DATA_DIR: dataDir, DATABASE_URL: `sqlite:${dataDir}/db.sqlite`, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port: tcpPort } });
  try {
    const http = async (method: string, path: string, body?: unknown): Promise<unknown> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method,
        headers: { authorization: `Bearer ${TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
      return res.json();
    };
    const rpc = (cmd: string, data: Record<string, unknown> = {}) => firstValueFrom(client.send({ cmd }, { token: TOKEN, ...data }));
    let up = false;
    const poll = setInterval(() => void fetch(`http://127.0.0.1:${port}/health/live`).then((r) => (up = r.ok), () => undefined), 50);
    await eventually('dist/main.js to answer', () => up, 20_000).finally(() => clearInterval(poll));
    await client.connect();
    const { id } = (await http('POST', '/api/servers', sshServerBody(sshd, loadTestUser()))) as { id: string };

    const operations = {
      'pool.stats': { http: () => http('GET', '/api/server-status/pool/stats'), tcp: () => rpc('pool.stats') },
      'servers.exec `true`': { http: () => http('POST', `/api/servers/${id}/exec`, { command: 'true' }), tcp: () => rpc('servers.exec', { id, command: 'true' }) },
    };
    console.log(`## Internal transport vs HTTP (\`npm run bench:transport\`, ${CALLS} calls each, alternating)\n`);
    console.log('| operation | HTTP median | TCP median | HTTP p90 | TCP p90 |');
    console.log('|---|---|---|---|---|');
    for (const [name, op] of Object.entries(operations)) {
      for (let i = 0; i < WARMUP; i += 1) await Promise.all([op.http(), op.tcp()]);
      const samples = { http: [] as number[], tcp: [] as number[] };
      for (let i = 0; i < CALLS; i += 1) {
        samples.http.push(await timed(op.http));
        samples.tcp.push(await timed(op.tcp));
      }
      console.log(`| ${name} | ${ms(median(samples.http))} | ${ms(median(samples.tcp))} | ${ms(p90(samples.http))} | ${ms(p90(samples.tcp))} |`);
    }
  } finally {
    await client.close();
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    await sshd.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
