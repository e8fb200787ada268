// Section 5: faults under load. 8 clients exec `true` round-robin on 4 servers on each of 3 hosts plus
// one server with a wrong password on host A; meanwhile host B's sshd is killed and restarted, then
// host C is frozen for 3 s and thawed. Counts failed and recovered requests per fault, and the
// connections left at every sshd once the service has stopped (must be 0).
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../../test/support/sshd.js';
import { addServer, exec, leftConnections, pick, sleep } from './common.js';

const EXEC_TIMEOUT_MS = 1500;

interface Outcome {
  server: string;
  at: number;
  ok: boolean;
  code: string;
}

interface Tally {
  requests: number;
  failed: number;
  codes: Set<string>;
  recoveredAfterMs?: number; // first success on that host after the fault ended
}

/** 8 clients exec `true` round-robin over `servers` (id → group) until stop(); every answer is kept. */
function drive(service: ServiceProcess, servers: Map<string, string>) {
  const ids = [...servers.keys()];
  const outcomes: Outcome[] = [];
  const t0 = performance.now();
  let running = true;
  const client = async (k: number) => {
    for (let n = k; running; n += 8) {
      const id = ids[n % ids.length];
      const res = await exec(service, id, 'true', EXEC_TIMEOUT_MS);
      outcomes.push({ server: servers.get(id)!, at: performance.now() - t0, ok: res.status === 200 && res.body.exitCode === 0, code: res.body.code ?? String(res.status) });
    }
  };
  const clients = Array.from({ length: 8 }, (_, k) => client(k));
  return { outcomes, now: () => performance.now() - t0, stop: () => ((running = false), Promise.all(clients)) };
}

/** Requests of `server` answered in [from, to]; with `end`, how long after it the first success came. */
function tally(outcomes: Outcome[], server: string, from: number, to: number, end?: number): Tally {
  const hits = outcomes.filter((o) => o.server === server && o.at >= from && o.at <= to);
  const failed = hits.filter((o) => !o.ok);
  const firstOk = end === undefined ? undefined : outcomes.find((o) => o.server === server && o.ok && o.at > end);
  return { requests: hits.length, failed: failed.length, codes: new Set(failed.map((o) => o.code)), recoveredAfterMs: firstOk && end !== undefined ? firstOk.at - end : undefined };
}

async function addServers(service: ServiceProcess, hosts: [string, SshdHost][], user: TestUser): Promise<Map<string, string>> {
  const servers = new Map<string, string>();
  for (const [name, host] of hosts) for (let i = 0; i < 4; i++) servers.set(await addServer(service, host, user), name);
  const a = hosts[0][1];
  const wrong = { name: 'wrong-password', host: a.host, sshPort: a.port, sshUser: user.username, authType: 'PASSWORD', sshPassword: 'not-the-password', gameDirectory: '/tmp', gamePort: 27015 };
  servers.set((await service.api<{ id: string }>('POST', '/api/servers', wrong)).id, 'wrong credentials');
  return servers;
}

export async function faultSection(): Promise<{ markdown: string; leaked: number; unexpected: number }> {
  const user = loadTestUser();
  const [a, b, c] = await Promise.all([101, 102, 103].map((n) => startSshd({ address: `127.0.0.${n}` })));
  const service = await ServiceProcess.start({ SSH_EXEC_TIMEOUT_MS: String(EXEC_TIMEOUT_MS) });
  try {
    const load = drive(service, await addServers(service, [['A', a], ['B', b], ['C', c]], user));
    const phase = pick(3000, 1500);
    await sleep(phase);
    const killedAt = load.now();
    await b.restart();
    const restartedAt = load.now();
    await sleep(phase);
    const frozenAt = load.now();
    c.freeze();
    await sleep(3000);
    c.thaw();
    const thawedAt = load.now();
    await sleep(phase + 2000);
    await load.stop();
    const end = load.now();
    const exitCode = await service.stop();
    const leaked = await leftConnections([a, b, c]);
    const o = load.outcomes;
    const rows: [string, Tally][] = [
      ['host B sshd killed and restarted (B servers)', tally(o, 'B', killedAt, frozenAt, restartedAt)],
      ['host C frozen 3 s (C servers)', tally(o, 'C', frozenAt, thawedAt + phase, thawedAt)],
      ['wrong credentials (1 server, whole run)', tally(o, 'wrong credentials', 0, end)],
      ['host A, healthy (whole run)', tally(o, 'A', 0, end)],
      ['host B before its fault', tally(o, 'B', 0, killedAt)],
      ['host C before its fault', tally(o, 'C', 0, frozenAt)],
    ];
    const unexpected = rows.slice(3).reduce((sum, [, t]) => sum + t.failed, 0);
    return { markdown: faultTable(rows, o.length, end, exitCode, leaked), leaked, unexpected };
  } finally {
    await service.stop();
    await Promise.all([a, b, c].map((h) => h.stop()));
  }
}

function faultTable(rows: [string, Tally][], requests: number, end: number, exitCode: number | null, leaked: number): string {
  return [
    `8 clients, exec \`true\` round-robin over 13 servers (4 per host on hosts A, B, C + 1 with a wrong password on A), \`timeoutMs\` ${EXEC_TIMEOUT_MS}; ${requests} requests in ${(end / 1000).toFixed(1)} s.`,
    '',
    '| fault | requests | failed | failure codes | first success after the fault ended |',
    '|---|---|---|---|---|',
    ...rows.map(([name, t]) => `| ${name} | ${t.requests} | ${t.failed} | ${[...t.codes].join(', ') || '—'} | ${t.recoveredAfterMs === undefined ? '—' : `${Math.round(t.recoveredAfterMs)} ms`} |`),
    '',
    `Service stopped with SIGTERM (exit ${exitCode}); connections left at the three sshd: **${leaked}**.`,
  ].join('\n');
}
