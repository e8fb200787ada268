// `npm run bench:burst`: 60 × `sleep 0.3; echo ok` at once through the HTTP API of the built service
// (`node dist/main.js`) on a MaxSessions 3 host, 4 connections per key: 12 channels, so the ideal is
// 5 waves × 0.3 s = 1.5 s. 20 runs on one service, each compared with the ideal. Prints markdown.
import { ServiceProcess } from '../test/support/service-process.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import { loadTestUser, startSshd } from '../test/support/sshd.js';
import { median, ratio } from './stats.js';

const BURST = 60;
const SLEEP_S = 0.3;
const MAX_SESSIONS = 3;
const CONNECTIONS = 4;
const IDEAL_MS = Math.ceil(BURST / (MAX_SESSIONS * CONNECTIONS)) * SLEEP_S * 1000;

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 20);
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.8', maxSessions: MAX_SESSIONS });
  const service = await ServiceProcess.start({ POOL_MAX_CONNECTIONS_PER_KEY: String(CONNECTIONS) });
  const api = (path: string, body?: unknown) => service.api<Record<string, unknown>>(body === undefined ? 'GET' : 'POST', path, body);
  try {
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
    await service.stop();
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
