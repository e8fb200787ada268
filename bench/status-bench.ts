// `npm run bench:status`: GET /api/server-status on the built service (node dist/main.js) for 30
// servers on 3 sshd hosts, cache off: median of 20 sweeps and the sessions sshd counted per sweep;
// then the sweep time while one host is frozen (SIGSTOPped sshd), silent in the handshake, or stopped.
// Prints a markdown report.
import { createServer, type Socket } from 'node:net';
import { FakeCs2Farm } from '../test/status/fake-cs2.js';
import { ServiceProcess as Service } from '../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost } from '../test/support/sshd.js';
import { median } from './stats.js';

const SERVERS_PER_HOST = 10;
const SWEEPS = Number(process.env.BENCH_SWEEPS ?? 20);
const PROBE_TIMEOUT_MS = 2000;

interface Status {
  serverId: string;
  reachable: boolean;
  running: boolean;
  error?: string;
}

interface Sweep {
  ms: number;
  sessions: number[];
  statuses: Status[];
}

async function sweep(service: Service, hosts: SshdHost[]): Promise<Sweep> {
  const before = hosts.map((h) => h.sessionsStarted());
  const started = performance.now();
  const statuses = await service.api<Status[]>('GET', '/api/server-status');
  const ms = performance.now() - started;
  return { ms, statuses, sessions: hosts.map((h, i) => h.sessionsStarted() - before[i]) };
}

async function sweeps(service: Service, hosts: SshdHost[], count: number): Promise<Sweep[]> {
  const done: Sweep[] = [];
  for (let i = 0; i < count; i++) done.push(await sweep(service, hosts));
  return done;
}

async function timedRuns(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    await run();
    times.push(performance.now() - started);
  }
  return times;
}

const summary = (runs: Sweep[]) => {
  const sessions = [...new Set(runs.map((r) => r.sessions.join('/')))].join(', ');
  const errors = [...new Set(runs.flatMap((r) => r.statuses.map((s) => s.error).filter(Boolean)))].join(', ') || '—';
  const running = [...new Set(runs.map((r) => r.statuses.filter((s) => s.running).length))].join(', ');
  return { median: median(runs.map((r) => r.ms)), max: Math.max(...runs.map((r) => r.ms)), sessions, errors, running };
};

async function main(): Promise<void> {
  const user = loadTestUser();
  const hosts = await Promise.all(['127.0.0.51', '127.0.0.52', '127.0.0.53'].map((address) => startSshd({ address })));
  const farm = new FakeCs2Farm(user.username);
  const service = await Service.start({ STATUS_CACHE_MS: '0', STATUS_PROBE_TIMEOUT_MS: String(PROBE_TIMEOUT_MS) });
  try {
    for (const [h, host] of hosts.entries()) {
      for (let i = 0; i < SERVERS_PER_HOST; i++) {
        const gameDirectory = farm.dir(`h${h}/s${i}`);
        const gamePort = 27015 + i;
        await service.api('POST', '/api/servers', {
          name: `bench-${h}-${i}`, host: host.host, sshPort: host.port, sshUser: user.username,
          authType: 'PASSWORD', sshPassword: user.password, gameDirectory, gamePort,
        });
        if (i % 2 === 0) farm.start(gameDirectory, ['-dedicated', '-port', String(gamePort), '+map', 'de_dust2']);
      }
    }
    await farm.started();
    const cold = await sweep(service, hosts);
    const warm = await sweeps(service, hosts, SWEEPS);
    const listing = await timedRuns(SWEEPS, () => service.api('GET', '/api/servers'));
    const single = await timedRuns(SWEEPS, () => service.api('GET', `/api/server-status/${warm[0].statuses[0].serverId}`));
    hosts[2].freeze();
    const frozen = await sweeps(service, hosts, 5);
    hosts[2].thaw();
    await sweeps(service, hosts, 1);
    await hosts[2].stop();
    const silent = await silentListener(hosts[2].host, hosts[2].port);
    const handshake = await sweeps(service, hosts, 5);
    await silent.close();
    const stopped = await sweeps(service, hosts, 5);
    console.log(report(cold, warm, { frozen, handshake, stopped }));
    console.log(`\nFor reference, medians of ${SWEEPS}: GET /api/servers (no probe) ${median(listing).toFixed(1)} ms; GET /api/server-status/:id (one host's probe) ${median(single).toFixed(1)} ms.`);
  } finally {
    await service.stop();
    farm.stop();
    await Promise.all(hosts.map((h) => h.stop()));
  }
}

/** Accepts TCP on the stopped host's address and never speaks SSH: connects hang in the handshake. */
async function silentListener(host: string, port: number): Promise<{ close(): Promise<void> }> {
  const sockets: Socket[] = [];
  const server = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return {
    close: () => {
      sockets.forEach((socket) => socket.destroy());
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

function report(cold: Sweep, warm: Sweep[], down: { frozen: Sweep[]; handshake: Sweep[]; stopped: Sweep[] }): string {
  const row = (name: string, runs: Sweep[]) => {
    const s = summary(runs);
    return `| ${name} | ${runs.length} | ${s.median.toFixed(1)} ms | ${s.max.toFixed(1)} ms | ${s.sessions} | ${s.running} | ${s.errors} |`;
  };
  return [
    `GET /api/server-status, ${3 * SERVERS_PER_HOST} servers on 3 sshd hosts (half running), STATUS_CACHE_MS=0, STATUS_PROBE_TIMEOUT_MS=${PROBE_TIMEOUT_MS}`,
    '',
    '| sweep | runs | median | max | sessions per host per sweep (sshd) | running | errors |',
    '|---|---|---|---|---|---|---|',
    row('cold (connects first)', [cold]),
    row('warm', warm),
    row('host 3 frozen (sshd SIGSTOPped, pooled connection open)', down.frozen),
    row('host 3 silent (accepts TCP, never answers the handshake)', down.handshake),
    row('host 3 sshd stopped (connection refused, then backoff)', down.stopped),
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
