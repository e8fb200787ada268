// Section 3: load through the HTTP API with autocannon (as a library): GET pool/stats and POST exec at
// 1, 16 and 64 concurrent clients; then 500 concurrent execs across 20 servers on two hosts with
// MaxSessions 3 and 10, every failure counted by status and code.
import autocannon from 'autocannon';
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd } from '../../test/support/sshd.js';
import { addServer, exec, leftConnections, pick } from './common.js';

export interface LoadRow {
  what: string;
  clients: number;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function cannon(service: ServiceProcess, path: string, clients: number, body?: unknown): Promise<autocannon.Result> {
  return autocannon({
    url: `${service.base}${path}`,
    connections: clients,
    duration: pick(5, 2),
    method: body === undefined ? 'GET' : 'POST',
    headers: service.headers(),
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

export async function loadSection(): Promise<{ rows: LoadRow[]; burst: { requests: number; failures: Record<string, number>; ms: number; left: number }; markdown: string }> {
  const user = loadTestUser();
  const [ms3, ms10] = await Promise.all([startSshd({ address: '127.0.0.91', maxSessions: 3 }), startSshd({ address: '127.0.0.92', maxSessions: 10 })]);
  const service = await ServiceProcess.start();
  try {
    const one = await addServer(service, ms10, user);
    await exec(service, one);
    const rows: LoadRow[] = [];
    for (const [what, path, body] of [['GET …/pool/stats', '/api/server-status/pool/stats', undefined], ['POST …/exec `true`', `/api/servers/${one}/exec`, { command: 'true' }]] as const) {
      for (const clients of [1, 16, 64]) {
        const r = await cannon(service, path, clients, body);
        rows.push({ what, clients, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx });
      }
    }
    const ids = await Promise.all(Array.from({ length: 20 }, (_, i) => addServer(service, i % 2 ? ms10 : ms3, user)));
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: 500 }, (_, i) => exec(service, ids[i % ids.length], 'echo ok')));
    const ms = performance.now() - started;
    const failures: Record<string, number> = {};
    for (const r of results) if (r.status !== 200 || r.body.exitCode !== 0) failures[`${r.status} ${r.body.code ?? `exit ${r.body.exitCode}`}`] = (failures[`${r.status} ${r.body.code ?? `exit ${r.body.exitCode}`}`] ?? 0) + 1;
    await service.api('POST', '/api/server-status/pool/close-all');
    const left = await leftConnections([ms3, ms10]);
    const burst = { requests: results.length, failures, ms, left };
    return { rows, burst, markdown: loadMarkdown(rows, burst) };
  } finally {
    await service.stop();
    await Promise.all([ms3.stop(), ms10.stop()]);
  }
}

function loadMarkdown(rows: LoadRow[], burst: { requests: number; failures: Record<string, number>; ms: number; left: number }): string {
  const failed = Object.values(burst.failures).reduce((a, b) => a + b, 0);
  const detail = failed ? ` (${Object.entries(burst.failures).map(([k, v]) => `${v} × ${k}`).join(', ')})` : '';
  return [
    `autocannon, ${pick(5, 2)} s per row, pool on (default settings), one key-auth server on a MaxSessions 10 host.`,
    '',
    '| request | clients | requests/s | p50 | p99 | errors |',
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.what} | ${r.clients} | ${Math.round(r.rps)} | ${r.p50} ms | ${r.p99} ms | ${r.errors} |`),
    '',
    `500 concurrent \`POST …/exec\` (\`echo ok\`) across 20 servers, 10 on a MaxSessions 3 host and 10 on a MaxSessions 10 host:`,
    `**${failed} failed** of ${burst.requests}${detail}, all answered in ${(burst.ms / 1000).toFixed(2)} s; connections left at sshd after close-all: ${burst.left}.`,
  ].join('\n');
}
