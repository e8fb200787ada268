// `npm run bench:sse`: the SSE replay attack against the built service (`node <dist>/main.js`), SQLite
// and (when scripts/test.sh provides one) PostgreSQL. An ended operation is written straight into the
// service's database (through OperationStore, so the rows are what the service writes), then:
//   1. 250 subscribers that never read a 20 001-event operation;
//   2. 20 subscribers that read it whole;
//   3. 3 subscribers that read a 320 001-event operation whole.
// Meanwhile one client asks /health/live every 20 ms. Prints its p50/p99/max and the service's RSS
// before, at its peak and after, as markdown. BENCH_DISTS=dist,/path/to/other/dist compares builds
// (e.g. main's); BENCH_HOLD_S (20) is how long the non-readers hold their streams,
// BENCH_POSTGRES=0 skips PostgreSQL.
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDataSource } from '../src/database/data-source.js';
import { dataSourceOptions } from '../src/database/database-options.js';
import { runningOperation } from '../src/operations/operation.entity.js';
import { OperationStore } from '../src/operations/operation-store.js';
import { ServiceProcess } from '../test/support/service-process.js';
import { percentile, sleep } from './suite/common.js';

const DISTS = (process.env.BENCH_DISTS ?? 'dist').split(',');
const HOLD_S = Number(process.env.BENCH_HOLD_S ?? 20);
/** BENCH_ONLY=readers: the scenarios whose name contains it. BENCH_NODE_ARGS: for the service (e.g. --cpu-prof). */
const ONLY = process.env.BENCH_ONLY ?? '';
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
/** A probe that gets no answer within this long counts as this long (the table then shows ≥). */
const PROBE_TIMEOUT_MS = 120_000;
const MiB = 1024 * 1024;

interface Row {
  dist: string;
  database: string;
  scenario: string;
  p50: number;
  p99: number;
  max: number;
  unanswered: number;
  rss: [before: number, peak: number, after: number];
  /** The service's own event-loop delay over the attack (prom-client's monitorEventLoopDelay), ms. */
  lag: { p99: number; max: number };
  seconds: number;
}

/** Writes an ended operation with `lines` SteamCMD-like output events and its done; returns its id. */
async function seed(url: string, serverId: string, lines: number): Promise<string> {
  const dataSource = await openDataSource(dataSourceOptions(url));
  try {
    const store = new OperationStore(dataSource);
    const now = new Date();
    const operation = runningOperation({ id: randomUUID(), serverId, action: 'update', ownerId: 'bench', leaseExpiresAt: new Date(now.getTime() + 3_600_000), startedAt: now });
    await store.createRunning([operation]);
    const state = { progress: null, outputTail: '' };
    for (let seq = 0; seq < lines; seq += 2000) {
      const batch = Array.from({ length: Math.min(2000, lines - seq) }, (_, i) => ({
        type: 'output' as const,
        data: { stream: 'stdout', line: ` Update state (0x61) downloading, progress: ${((seq + i) % 100).toFixed(2)} (${seq + i} / ${lines})` },
      }));
      if (!(await store.append(operation.id, seq, batch, state))) throw new Error('seed: append refused');
    }
    const final = { status: 'succeeded' as const, exitCode: 0, error: null, finishedAt: new Date(), ...state };
    if (!(await store.finish(operation.id, lines, [{ type: 'done', data: { status: 'succeeded', exitCode: 0 } }], final))) throw new Error('seed: finish refused');
    return operation.id;
  } finally {
    await dataSource.destroy();
  }
}

/** GET /health/live every 20 ms, one at a time, until stopped; each latency in ms. */
function probeHealth(service: ServiceProcess): { stop(): Promise<{ latencies: number[]; unanswered: number }> } {
  const latencies: number[] = [];
  let unanswered = 0;
  let running = true;
  const once = () =>
    new Promise<void>((resolve) => {
      const started = performance.now();
      const req = request(`${service.base}/health/live`, { agent: false, timeout: PROBE_TIMEOUT_MS }, (res) => {
        res.resume();
        res.on('end', () => {
          latencies.push(performance.now() - started);
          resolve();
        });
      });
      const fail = () => {
        unanswered++;
        latencies.push(performance.now() - started);
        resolve();
      };
      req.on('timeout', () => req.destroy());
      req.on('error', fail);
      req.end();
    });
  const loop = (async () => {
    while (running) {
      await once();
      await sleep(20);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { latencies, unanswered };
    },
  };
}

/** Samples the service's RSS every 100 ms; the peak. */
function rssPeak(service: ServiceProcess): { stop(): number } {
  let peak = service.rssBytes();
  const timer = setInterval(() => (peak = Math.max(peak, service.rssBytes())), 100);
  return { stop: () => (clearInterval(timer), peak) };
}

function eventsRequest(service: ServiceProcess, operationId: string): string {
  return `GET /api/operations/${operationId}/events HTTP/1.1\r\nHost: pool\r\nAuthorization: Bearer ${service.token}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n`;
}

/** A subscriber that sends its request and never reads a byte. */
function nonReader(service: ServiceProcess, operationId: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(service.port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
    socket.pause();
    socket.write(eventsRequest(service, operationId));
  });
}

/** A subscriber that reads the stream to its end; resolves with whether it ended with `done`. */
function reader(service: ServiceProcess, operationId: string): Promise<boolean> {
  return new Promise((resolve) => {
    let tail = '';
    const socket = connect(service.port, '127.0.0.1', () => socket.write(eventsRequest(service, operationId)));
    socket.on('data', (chunk: Buffer) => (tail = (tail + chunk.toString('latin1')).slice(-256)));
    socket.on('close', () => resolve(tail.includes('event: done')));
    socket.on('error', () => undefined);
  });
}

/** prom-client's event-loop delay since the previous scrape (each scrape resets it), ms. */
async function loopLag(service: ServiceProcess): Promise<{ p99: number; max: number }> {
  const text = await (await fetch(`${service.base}/metrics`, { headers: service.headers() })).text();
  const value = (name: string) => 1000 * Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { p99: value('nodejs_eventloop_lag_p99_seconds'), max: value('nodejs_eventloop_lag_max_seconds') };
}

async function measure(service: ServiceProcess, attack: () => Promise<void>): Promise<Omit<Row, 'dist' | 'database' | 'scenario'>> {
  await loopLag(service);
  const before = service.rssBytes();
  const peak = rssPeak(service);
  const probe = probeHealth(service);
  const started = performance.now();
  await attack();
  const seconds = (performance.now() - started) / 1000;
  const { latencies, unanswered } = await probe.stop();
  const lag = await loopLag(service);
  const top = peak.stop();
  await sleep(1000);
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: Math.max(...latencies), unanswered, rss: [before, top, service.rssBytes()], lag, seconds };
}

async function scenarios(dist: string, database: string, url: string): Promise<Row[]> {
  const rows: Row[] = [];
  const run = async (scenario: string, lines: number, attack: (service: ServiceProcess, operationId: string) => Promise<void>) => {
    if (!scenario.includes(ONLY)) return;
    const service = await ServiceProcess.start({ DATABASE_URL: url, LOG_LEVEL: 'error' }, { dist, nodeArgs: NODE_ARGS });
    try {
      const body = { name: `bench-${randomUUID().slice(0, 8)}`, host: '10.0.0.5', sshPort: 22, sshUser: 'cs2', authType: 'PASSWORD', sshPassword: 'bench', gameDirectory: '/home/cs2/g', gamePort: 27015 };
      const { id } = await service.api<{ id: string }>('POST', '/api/servers', body);
      const operationId = await seed(url, id, lines);
      await sleep(1000);
      rows.push({ dist, database, scenario, ...(await measure(service, () => attack(service, operationId))) });
      console.error(`${dist} ${database} ${scenario}: done`);
    } finally {
      await service.stop();
    }
  };
  await run('250 non-readers, 20 001 events', 20_000, async (service, operationId) => {
    const sockets = await Promise.all(Array.from({ length: 250 }, () => nonReader(service, operationId)));
    await sleep(HOLD_S * 1000);
    sockets.forEach((socket) => socket.destroy());
  });
  await run('20 readers, 20 001 events', 20_000, async (service, operationId) => {
    const ends = await Promise.all(Array.from({ length: 20 }, () => reader(service, operationId)));
    if (!ends.every(Boolean)) throw new Error('a reader did not get done');
  });
  await run('3 readers, 320 001 events', 320_000, async (service, operationId) => {
    const ends = await Promise.all(Array.from({ length: 3 }, () => reader(service, operationId)));
    if (!ends.every(Boolean)) throw new Error('a reader did not get done');
  });
  return rows;
}

const ms = (value: number) => (value >= PROBE_TIMEOUT_MS ? `≥ ${(value / 1000).toFixed(0)} s` : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${value.toFixed(1)} ms`);

async function main(): Promise<void> {
  const rows: Row[] = [];
  for (const dist of DISTS) {
    const dir = mkdtempSync(join(tmpdir(), 'sse-bench-'));
    try {
      rows.push(...(await scenarios(dist, 'SQLite', `sqlite:${join(dir, 'db.sqlite')}`)));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const postgres = process.env.TEST_POSTGRES_URL;
    if (postgres && process.env.BENCH_POSTGRES !== '0') rows.push(...(await scenarios(dist, 'PostgreSQL', postgres)));
  }
  console.log(`node ${process.version}, BENCH_HOLD_S=${HOLD_S}; /health/live asked every 20 ms during each attack (readers: until they all got done)\n`);
  console.log('| build | database | attack | /health/live p50 | p99 | max | unanswered | loop delay p99 / max | RSS before → peak → after (MiB) | attack (s) |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const rss = r.rss.map((b) => (b / MiB).toFixed(0)).join(' → ');
    console.log(`| ${r.dist} | ${r.database} | ${r.scenario} | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${r.unanswered} | ${ms(r.lag.p99)} / ${ms(r.lag.max)} | ${rss} | ${r.seconds.toFixed(1)} |`);
  }
}

await main();
