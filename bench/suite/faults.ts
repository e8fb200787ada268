// Section 5: faults under load. 8 clients exec `true` round-robin on 4 servers on each of 3 hosts plus
// one server with a wrong password on host A; meanwhile host B's sshd is killed and restarted, then
// host C is frozen for 3 s and thawed. Counts failed and recovered requests per fault, and the
// connections left at every sshd once the service has stopped (must be 0).
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost } from '../../test/support/sshd.js';
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

export async function faultSection(): Promise<{ markdown: string; leaked: number; unexpected: number }> {
  const user = loadTestUser();
  const [a, b, c] = await Promise.all([101, 102, 103].map((n) => startSshd({ address: `127.0.0.${n}` })));
  const service = await ServiceProcess.start({ SSH_EXEC_TIMEOUT_MS: String(EXEC_TIMEOUT_MS) });
  const hostOf = new Map<string, string>();
  const outcomes: Outcome[] = [];
  let running = true;
  try {
    for (const [name, host] of [['A', a], ['B', b], ['C', c]] as const) {
      for (let i = 0; i < 4; i++) hostOf.set(await addServer(service, host, user), name);
    }
    const wrong = (await service.api<{ id: string }>('POST', '/api/servers', { name: 'wrong-password', host: a.host, sshPort: a.port, sshUser: user.username, authType: 'PASSWORD', sshPassword: 'not-the-password', gameDirectory: '/tmp', gamePort: 27015 })).id;
    hostOf.set(wrong, 'wrong credentials');
    const ids = [...hostOf.keys()];
    const t0 = performance.now();
    const client = async (k: number) => {
      for (let n = k; running; n += 8) {
        const id = ids[n % ids.length];
        const res = await exec(service, id, 'true', EXEC_TIMEOUT_MS);
        outcomes.push({ server: hostOf.get(id)!, at: performance.now() - t0, ok: res.status === 200 && res.body.exitCode === 0, code: res.body.code ?? String(res.status) });
      }
    };
    const clients = Array.from({ length: 8 }, (_, k) => client(k));
    const phase = pick(3000, 1500);
    await sleep(phase);
    const killedAt = performance.now() - t0;
    await b.restart();
    const restartedAt = performance.now() - t0;
    await sleep(phase);
    const frozenAt = performance.now() - t0;
    c.freeze();
    await sleep(3000);
    c.thaw();
    const thawedAt = performance.now() - t0;
    await sleep(phase + 2000);
    running = false;
    await Promise.all(clients);
    const exitCode = await service.stop();
    const leaked = await leftConnections([a, b, c]);
    const tally = (server: string, from: number, to: number, end?: number): Tally => {
      const hits = outcomes.filter((o) => o.server === server && o.at >= from && o.at <= to);
      const firstOk = end === undefined ? undefined : outcomes.find((o) => o.server === server && o.ok && o.at > end);
      return { requests: hits.length, failed: hits.filter((o) => !o.ok).length, codes: new Set(hits.filter((o) => !o.ok).map((o) => o.code)), recoveredAfterMs: firstOk && end !== undefined ? firstOk.at - end : undefined };
    };
    const end = performance.now() - t0;
    const rows: [string, Tally][] = [
      ['host B sshd killed and restarted (B servers)', tally('B', killedAt, frozenAt, restartedAt)],
      ['host C frozen 3 s (C servers)', tally('C', frozenAt, thawedAt + phase, thawedAt)],
      ['wrong credentials (1 server, whole run)', tally('wrong credentials', 0, end)],
      ['host A, healthy (whole run)', tally('A', 0, end)],
      ['host B outside its fault', tally('B', 0, killedAt)],
      ['host C outside its fault', tally('C', 0, frozenAt)],
    ];
    const unexpected = rows[3][1].failed + rows[4][1].failed + rows[5][1].failed;
    const markdown = [
      `8 clients, exec \`true\` round-robin over 13 servers (4 per host on hosts A, B, C + 1 with a wrong password on A), \`timeoutMs\` ${EXEC_TIMEOUT_MS}; ${outcomes.length} requests in ${(end / 1000).toFixed(1)} s.`,
      '',
      '| fault | requests | failed | failure codes | first success after the fault ended |',
      '|---|---|---|---|---|',
      ...rows.map(([name, t]) => `| ${name} | ${t.requests} | ${t.failed} | ${[...t.codes].join(', ') || '—'} | ${t.recoveredAfterMs === undefined ? '—' : `${Math.round(t.recoveredAfterMs)} ms`} |`),
      '',
      `Service stopped with SIGTERM (exit ${exitCode}); connections left at the three sshd: **${leaked}**.`,
    ].join('\n');
    return { markdown, leaked, unexpected };
  } finally {
    running = false;
    await service.stop();
    await Promise.all([a, b, c].map((h) => h.stop()));
  }
}
