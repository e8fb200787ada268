// `npm run bench:burst`: 60 × `sleep 0.3; echo ok` at once through the HTTP API of the built service
// (`node dist/main.js`) on a MaxSessions 3 host, 4 connections per key: 12 channels, so the ideal is
// 5 waves × 0.3 s = 1.5 s. 20 runs on one service, each compared with the ideal. Prints markdown.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../test/support/eventually.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import { freePort, loadTestUser, startSshd } from '../test/support/sshd.js';
import { median, ratio } from './stats.js';

const TOKEN = 'burst-bench-token-8c21';
const BURST = 60;
const SLEEP_S = 0.3;
const MAX_SESSIONS = 3;
const CONNECTIONS = 4;
const IDEAL_MS = Math.ceil(BURST / (MAX_SESSIONS * CONNECTIONS)) * SLEEP_S * 1000;

function startService(port: number): ChildProcess {
  const dataDir = mkdtempSync(join(tmpdir(), 'burst-bench-'));
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: String(port),
    HOST: '127.0.0.1',
    INTERNAL_TCP_PORT: '0',
    API_TOKENS: TOKEN,
    DATA_DIR: dataDir,
    DATABASE_URL: `sqlite:${join(dataDir, 'db.sqlite')}`,
    POOL_MAX_CONNECTIONS_PER_KEY: String(CONNECTIONS),
    LOG_LEVEL: 'warn',
  };
  return spawn(process.execPath, [join(process.cwd(), 'dist', 'main.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
}

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.8', maxSessions: MAX_SESSIONS });
  const port = await freePort();
  const service = startService(port);
  const api = async (path: string, body?: unknown) => {
    const response = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
    return response.json() as Promise<Record<string, unknown>>;
  };
  try {
    let live = false;
    const probe = () => fetch(`http://127.0.0.1:${port}/health/live`).then((r) => (live = r.ok), () => undefined);
    await eventually('the service to answer', () => (void probe(), live), 30_000);
    const { id } = (await api('/api/servers', sshServerBody(sshd, user))) as { id: string };
    await api(`/api/servers/${id}/exec`, { command: 'true' }); // first handshake outside the timings
    const times: number[] = [];
    for (let run = 0; run < runs; run++) {
      const started = performance.now();
      await Promise.all(Array.from({ length: BURST }, () => api(`/api/servers/${id}/exec`, { command: `sleep ${SLEEP_S}; echo ok`, timeoutMs: 30_000 })));
      times.push(performance.now() - started);
    }
    console.log(report(times));
  } finally {
    service.kill('SIGTERM');
    await sshd.stop();
  }
}

function report(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  const s = (value: number) => `${(value / 1000).toFixed(2)} s`;
  const within = times.filter((t) => t <= IDEAL_MS * 1.3).length;
  return [
    `Run ${new Date().toISOString()}, node ${process.version}: ${BURST} × \`sleep ${SLEEP_S}; echo ok\` through the HTTP API of dist/main.js,`,
    `MaxSessions ${MAX_SESSIONS}, ${CONNECTIONS} connections per key; ideal ${s(IDEAL_MS)}; ${times.length} runs.`,
    '',
    '| | min | median | max |',
    '|---|---|---|---|',
    `| burst wall time | ${s(sorted[0])} | ${s(median(times))} | ${s(sorted[sorted.length - 1])} |`,
    `| ÷ ideal | ${ratio(sorted[0] / IDEAL_MS)} | ${ratio(median(times) / IDEAL_MS)} | ${ratio(sorted[sorted.length - 1] / IDEAL_MS)} |`,
    '',
    `Runs within 1.3× the ideal: ${within} of ${times.length}. Each run (s): ${times.map((t) => (t / 1000).toFixed(2)).join(', ')}`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
