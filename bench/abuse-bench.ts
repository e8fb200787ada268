// `npm run bench:abuse`: the outside probe's attacks on the edge, against the built service
// (node dist/main.js, SQLite, 127.0.0.1 only), a fresh process for each attack so that one attack's
// leftovers (leaked descriptors, a grown heap) do not count against the next. Each attack is bounded
// in connections and time; during
// it a prober opens a new connection for `GET /health/live` every 25 ms (as the kubelet does, with a
// 5 s timeout) on the port the Deployment probes (HEALTH_PORT when the build has it), and the service's
// RSS and open descriptors are sampled. Prints one markdown table per build.
//   BENCH_DISTS=dist,/tmp/old/dist  builds to compare (default dist)
//   BENCH_ATTACK_MS=6000            how long each attack holds its connections
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { ServiceProcess } from '../test/support/service-process.js';
import { openFds, pipelined } from '../test/edge/edge-peers.js';
import { freePort } from '../test/support/sshd.js';
import { frame } from '../test/transport/rpc-peers.js';
import { median } from './stats.js';

const DISTS = (process.env.BENCH_DISTS ?? 'dist').split(',');
const ATTACK_MS = Number(process.env.BENCH_ATTACK_MS ?? 6000);
const SERVERS = 300;
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Target {
  service: ServiceProcess;
  tcpPort: number;
  probePort: number;
}

/** One GET /health/live on a new connection: its latency in ms, or null when it failed or took over 5 s. */
function probe(port: number): Promise<number | null> {
  const started = performance.now();
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health/live', agent: false, timeout: 5000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200 ? performance.now() - started : null));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(null));
    req.end();
  });
}

function open(port: number, read = false): Promise<Socket> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    if (!read) socket.pause();
    socket.once('connect', () => resolve(socket));
    socket.once('close', () => resolve(socket));
  });
}

async function openMany(port: number, count: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 200) sockets.push(...(await Promise.all(Array.from({ length: Math.min(200, count - i) }, () => open(port)))));
  return sockets;
}

async function holdThenClose(sockets: Socket[]): Promise<void> {
  await sleep(ATTACK_MS);
  for (const socket of sockets) socket.destroy();
}

/** Pipelines `payload` on each of `connections` sockets and never reads. */
async function flood(port: number, connections: number, payload: string): Promise<void> {
  const sockets = await openMany(port, connections);
  for (const socket of sockets) socket.write(payload);
  await holdThenClose(sockets);
}

const rpcList = (token: string, count: number) => Array.from({ length: count }, (_, n) => frame({ pattern: { cmd: 'servers.list' }, data: { token }, id: `l${n}` })).join('');

interface Attack {
  name: string;
  /** Registers SERVERS servers first, for the attacks that list them. */
  servers?: boolean;
  run(t: Target): Promise<void>;
}

const ATTACKS: Attack[] = [
  { name: 'none', run: () => sleep(ATTACK_MS) },
  {
    name: 'static files: 5 × 1 500 pipelined, then hang up',
    run: async ({ service }) => {
      for (let round = 0; round < 5; round++) {
        const [socket] = await openMany(service.port, 1);
        socket.write(pipelined('/api/docs/swagger-ui-bundle.js', 1500));
        await sleep(ATTACK_MS / 5);
        socket.destroy();
      }
    },
  },
  { name: '1 000 idle HTTP connections', run: async ({ service }) => holdThenClose(await openMany(service.port, 1000)) },
  { name: '5 000 idle TCP connections', run: async ({ tcpPort }) => holdThenClose(await openMany(tcpPort, 5000)) },
  { name: '/metrics: 4 × 1 000 pipelined, unread', run: ({ service }) => flood(service.port, 4, pipelined('/metrics', 1000)) },
  { name: '/metrics: 8 × 1 000 pipelined, unread', run: ({ service }) => flood(service.port, 8, pipelined('/metrics', 1000)) },
  {
    name: `/api/servers (${SERVERS}): 4 × 1 000 pipelined, unread`,
    servers: true,
    run: ({ service }) => flood(service.port, 4, pipelined('/api/servers', 1000, `Authorization: Bearer ${service.token}\r\n`)),
  },
  { name: `TCP servers.list (${SERVERS}): 1 × 1 000 frames, unread`, servers: true, run: ({ service, tcpPort }) => flood(tcpPort, 1, rpcList(service.token, 1000)) },
  { name: `TCP servers.list (${SERVERS}): 4 × 1 000 frames, unread`, servers: true, run: ({ service, tcpPort }) => flood(tcpPort, 4, rpcList(service.token, 1000)) },
];

interface Row {
  p50: number;
  p99: number;
  failed: number;
  probes: number;
  rssPeak: number;
  fdsPeak: number;
  fdsAfter: number;
}

async function measure(t: Target, attack: (t: Target) => Promise<void>): Promise<Row> {
  const latencies: number[] = [];
  let failed = 0;
  let rssPeak = 0;
  let fdsPeak = 0;
  let running = true;
  const prober = (async () => {
    while (running) {
      const latency = await probe(t.probePort);
      if (latency === null) failed++;
      else latencies.push(latency);
      await sleep(25);
    }
  })();
  const sampler = setInterval(() => {
    rssPeak = Math.max(rssPeak, t.service.rssBytes());
    fdsPeak = Math.max(fdsPeak, openFds(t.service.pid));
  }, 100);
  try {
    await attack(t);
    await sleep(2000);
  } finally {
    running = false;
    clearInterval(sampler);
    await prober;
  }
  const sorted = [...latencies].sort((a, b) => a - b);
  const p99 = sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : NaN;
  return { p50: median(latencies), p99, failed, probes: latencies.length + failed, rssPeak, fdsPeak, fdsAfter: openFds(t.service.pid) };
}

async function start(dist: string, servers: boolean): Promise<Target> {
  const [tcpPort, healthPort] = [await freePort(), await freePort()];
  const service = await ServiceProcess.start({ INTERNAL_TCP_PORT: String(tcpPort), HEALTH_PORT: String(healthPort) }, { dist });
  const probePort = (await probe(healthPort)) === null ? service.port : healthPort;
  for (let i = 0; servers && i < SERVERS; i++) {
    await service.api('POST', '/api/servers', { name: `abuse-${i}`, host: `10.0.${i >> 8}.${i & 255}`, sshPort: 22, sshUser: 'cs2', authType: 'PASSWORD', sshPassword: 'x', gameDirectory: `/home/cs2/s${i}`, gamePort: 27015 });
  }
  return { service, tcpPort, probePort };
}

const msOrDash = (value: number) => (Number.isNaN(value) ? '—' : `${value.toFixed(1)} ms`);

async function main(): Promise<void> {
  for (const dist of DISTS) {
    let header = false;
    for (const attack of ATTACKS) {
      const t = await start(dist, attack.servers ?? false);
      try {
        if (!header) {
          console.log(`\n## Edge under attack: ${dist} (/health/live on ${t.probePort === t.service.port ? 'PORT' : 'HEALTH_PORT'}, attacks held ${ATTACK_MS} ms)\n`);
          console.log('| attack | /health/live p50 | p99 | failed probes | RSS peak | fds peak | fds 2 s after |');
          console.log('|---|---|---|---|---|---|---|');
          header = true;
        }
        const r = await measure(t, attack.run);
        const rss = `${(r.rssPeak / MiB).toFixed(0)} MiB`;
        console.log(`| ${attack.name} | ${msOrDash(r.p50)} | ${msOrDash(r.p99)} | ${r.failed}/${r.probes} | ${rss} | ${r.fdsPeak} | ${r.fdsAfter} |`);
      } finally {
        await t.service.stop();
      }
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
