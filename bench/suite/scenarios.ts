// Section 2: the seed's scenarios through the HTTP API, pool on vs off, counted at sshd: accepted
// authentications and sessions started. Connections are closed (close-all) before each scenario.
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost, type TestUser } from '../../test/support/sshd.js';
import { addServer, exec } from './common.js';

interface Scenario {
  name: string;
  run(service: ServiceProcess, hosts: SshdHost[], user: TestUser): Promise<number>; // returns failed requests
}

async function execAll(service: ServiceProcess, ids: string[], commands: string[]): Promise<number> {
  let failed = 0;
  for (const id of ids) for (const command of commands) if ((await exec(service, id, command)).status !== 200) failed++;
  return failed;
}

const servers = (service: ServiceProcess, hosts: SshdHost[], user: TestUser, count: number) =>
  Promise.all(Array.from({ length: count }, (_, i) => addServer(service, hosts[i % hosts.length], user)));

const SCENARIOS: Scenario[] = [
  { name: '10 operations on one server', run: async (s, h, u) => execAll(s, await servers(s, [h[0]], u, 1), Array(10).fill('true')) },
  { name: '3 servers on one host', run: async (s, h, u) => execAll(s, await servers(s, [h[0]], u, 3), ['true']) },
  {
    name: '5 servers on one host updated (stop, update, start)',
    run: async (s, h, u) => execAll(s, await servers(s, [h[0]], u, 5), ['echo stop', 'echo update', 'echo start']),
  },
  {
    name: '10 servers monitored for 5 cycles (GET /api/server-status)',
    run: async (s, h, u) => {
      await servers(s, [h[0]], u, 10);
      let failed = 0;
      for (let cycle = 0; cycle < 5; cycle++) if ((await s.request('GET', '/api/server-status')).status !== 200) failed++;
      return failed;
    },
  },
  { name: '20 servers across 5 hosts', run: async (s, h, u) => execAll(s, await servers(s, h, u, 20), ['true']) },
];

export interface ScenarioRow {
  name: string;
  on: { auths: number; sessions: number; failed: number };
  off: { auths: number; sessions: number; failed: number };
}

async function measure(service: ServiceProcess, hosts: SshdHost[], user: TestUser, scenario: Scenario) {
  await service.api('POST', '/api/server-status/pool/close-all');
  for (const { id } of await service.api<{ id: string }[]>('GET', '/api/servers')) await service.api('DELETE', `/api/servers/${id}`);
  const sum = (f: (h: SshdHost) => number) => hosts.reduce((total, h) => total + f(h), 0);
  const [auths, sessions] = [sum((h) => h.acceptedAuths()), sum((h) => h.sessionsStarted())];
  const failed = await scenario.run(service, hosts, user);
  await new Promise((r) => setTimeout(r, 300)); // sshd writes its log lines asynchronously
  return { auths: sum((h) => h.acceptedAuths()) - auths, sessions: sum((h) => h.sessionsStarted()) - sessions, failed };
}

export async function scenarioSection(): Promise<{ rows: ScenarioRow[]; markdown: string }> {
  const user = loadTestUser();
  const hosts = await Promise.all([81, 82, 83, 84, 85].map((n) => startSshd({ address: `127.0.0.${n}` })));
  const on = await ServiceProcess.start({ STATUS_CACHE_MS: '0' });
  const off = await ServiceProcess.start({ STATUS_CACHE_MS: '0', SSH_POOL_ENABLED: 'false' });
  try {
    const rows: ScenarioRow[] = [];
    for (const scenario of SCENARIOS) {
      rows.push({ name: scenario.name, on: await measure(on, hosts, user, scenario), off: await measure(off, hosts, user, scenario) });
    }
    const cell = (r: ScenarioRow['on']) => `${r.auths} | ${r.sessions}${r.failed ? ` (${r.failed} failed)` : ''}`;
    return {
      rows,
      markdown: [
        '| scenario (HTTP API) | auths, pool on | sessions, pool on | auths, pool off | sessions, pool off |',
        '|---|---|---|---|---|',
        ...rows.map((r) => `| ${r.name} | ${cell(r.on)} | ${cell(r.off)} |`),
      ].join('\n'),
    };
  } finally {
    await Promise.all([on.stop(), off.stop()]);
    await Promise.all(hosts.map((h) => h.stop()));
  }
}
