// `npm run bench:operations`: what a user of the operations API sees, through the HTTP API of two
// built services (`node dist/main.js`, A and B) on one PostgreSQL database and a real sshd, with a fake
// LinuxGSM control script whose `update` prints SteamCMD-style progress lines at a steady rate, each
// carrying the host's wall clock when it was printed (same machine: one clock). Measures:
//   1. POST …/actions/update → the first SSE event (the subscriber connects right after the 202);
//   2. line printed on the host → event received, by a client of A (runs it) and of B (relays it);
//   3. the same with 10 operations at once on one MaxSessions 10 host (POST /api/operations/batch).
// Prints markdown.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { ServiceProcess } from '../test/support/service-process.js';
import { loadTestUser, startSshd, type SshdHost } from '../test/support/sshd.js';
import { runDir } from '../test/support/test-user.js';
import { collectUntilEnd, openSse, type SseEvent } from '../test/support/sse.js';
import { addServer, f1, f2, percentile } from './suite/common.js';
import { median } from './stats.js';

const FIRST_RUNS = Number(process.env.BENCH_RUNS ?? 40);
const LINES = Number(process.env.BENCH_LINES ?? 600);
const LOAD_OPERATIONS = 10;
const LOAD_LINES = Number(process.env.BENCH_LOAD_LINES ?? 200);
/** Seconds between two lines (plus the loop's own cost): ~80 lines/s per operation. */
const INTERVAL_S = 0.01;
/** Before its first line the relay scripts wait this long, so that both subscribers are live. */
const WAIT_S = 1;
/** SteamCMD's own pace: a progress line now and then, each one alone (no batch to join). */
const PACED_LINES = 30;
const PACED_INTERVAL_S = 0.2;
const MAX_SESSIONS = 10;
/** Bound on one stream's run (the longest prints 600 lines in about 7 s). */
const STREAM_TIMEOUT_MS = 120_000;

/**
 * Wall-clock time, sub-millisecond: performance.timeOrigin (CLOCK_REALTIME at start) plus the monotonic
 * clock the SSE client stamps events with (Date.now() has 1 ms steps). The report prints its drift.
 */
const wallClockMs = (monotonic = performance.now()): number => performance.timeOrigin + monotonic;

/**
 * A fake LinuxGSM `cs2server`: `update` prints `lines` SteamCMD lines INTERVAL_S apart, each ending
 * in ` t=<ns>`. It forks nothing per line (SteamCMD does not either; 10 scripts forking `sleep` 80
 * times a second each would load this 2-core host themselves). The time is bash's $EPOCHREALTIME
 * (CLOCK_REALTIME, µs), expanded in the printf itself: `$(date +%s%N)` would put a fork and a wait
 * between reading the clock and writing the line.
 */
function fakeControlScript(dir: string, name: string, lines: number, waitS: number, intervalS = INTERVAL_S): string {
  const path = join(dir, name);
  const script = `#!/bin/bash
# Fake LinuxGSM control script of bench/operations-bench.ts: only \`update\`.
[ "$1" = update ] || { echo "fake cs2server: only update" >&2; exit 2; }
exec 3<> <(:) # a pipe nobody writes: \`read -t\` on it sleeps without forking sleep(1) per line
read -r -t ${waitS} -u 3 || :
for ((i = 1; i <= ${lines}; i++)); do
  p=$((i * 10000 / ${lines}))
  printf 'Update state (0x61) downloading, progress: %d.%02d (%d / ${lines}) t=%s\\n' $((p / 100)) $((p % 100)) "$i" "\${EPOCHREALTIME/./}000"
  read -r -t ${intervalS} -u 3 || :
done
echo "Success! App '730' fully installed."
`;
  writeFileSync(path, script);
  chmodSync(path, 0o755);
  return path;
}

/** When the host printed the line (ms since the epoch), from its ` t=<ns>` stamp; null for other lines. */
function printedAt(line: string): number | null {
  const match = / t=(\d+)$/.exec(line);
  return match ? Number(BigInt(match[1]) / 1000n) / 1000 : null;
}

/** Host print → receipt (ms) of every output event that carries a stamp. */
function delays(events: SseEvent[]): number[] {
  return events.flatMap((e) => {
    const printed = e.event === 'output' ? printedAt((e.data as { line: string }).line) : null;
    return printed === null ? [] : [wallClockMs(e.receivedAt) - printed];
  });
}

/**
 * Host print → the event's row (its `created_at`: taken by the running service inside the write's
 * transaction, 1 ms steps): the part of the delay before storing, the rest is commit, notify and reads.
 */
async function storedDelays(db: pg.Client, operationIds: string[]): Promise<number[]> {
  const { rows } = await db.query<{ data: string; created_at: Date }>(
    "SELECT data, created_at FROM operation_events WHERE operation_id = ANY($1) AND type = 'output'",
    [operationIds],
  );
  return rows.flatMap((row) => {
    const printed = printedAt((JSON.parse(row.data) as { line: string }).line);
    return printed === null ? [] : [row.created_at.getTime() - printed];
  });
}

/** The stream's ids are 1, 2, 3… without a gap, it ends with `done` succeeded, and it holds `lines` stamped lines. */
function check(events: SseEvent[], lines: number, where: string): void {
  const gap = events.findIndex((e, i) => e.id !== i + 1);
  const last = events.at(-1);
  const status = (last?.data as { status?: string } | undefined)?.status;
  if (gap >= 0 || last?.event !== 'done' || status !== 'succeeded' || delays(events).length !== lines) {
    throw new Error(`${where}: ${events.length} events, first gap at ${gap}, last ${last?.event} ${status}, ${delays(events).length} of ${lines} lines`);
  }
}

/** CPU seconds (user + system) a process has used, from /proc (clock ticks of 10 ms). */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Lines per second the host printed, from the first and last stamps. */
function lineRate(events: SseEvent[]): number {
  const stamps = events.flatMap((e) => (e.event === 'output' ? [/ t=(\d+)$/.exec((e.data as { line: string }).line)?.[1]] : [])).filter(Boolean) as string[];
  return ((stamps.length - 1) * 1e9) / Number(BigInt(stamps.at(-1)!) - BigInt(stamps[0]));
}

/** Every event of an operation's stream on `service`, from the start to `done`. */
async function follow(service: ServiceProcess, id: string): Promise<SseEvent[]> {
  const conn = await openSse(`${service.base}/api/operations/${id}/events`, { token: service.token });
  if (conn.status !== 200) throw new Error(`GET …/events: ${conn.status} ${JSON.stringify(await conn.body())}`);
  return collectUntilEnd(conn, STREAM_TIMEOUT_MS);
}

async function startUpdate(service: ServiceProcess, serverId: string): Promise<string> {
  const res = await service.request<{ operationId: string }>('POST', `/api/servers/${serverId}/actions/update`);
  if (res.status !== 202) throw new Error(`POST …/actions/update: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.operationId;
}

/** One run of section 1: ms from sending the POST to its 202, and to the first event. */
async function firstEvent(service: ServiceProcess, serverId: string): Promise<{ accepted: number; first: number }> {
  const sent = wallClockMs();
  const id = await startUpdate(service, serverId);
  const accepted = wallClockMs();
  const events = await follow(service, id);
  check(events, 30, 'first-event run');
  return { accepted: accepted - sent, first: wallClockMs(events[0].receivedAt) - sent };
}

/** Operations started on A, each followed from A and from B; delays of every stamped line. */
async function relayed(a: ServiceProcess, b: ServiceProcess, db: pg.Client, ids: string[], lines: number): Promise<Delays> {
  const ended = await Promise.all(ids.map((id) => Promise.all([follow(a, id), follow(b, id)])));
  ended.forEach(([onA, viaB], i) => {
    check(onA, lines, `operation ${ids[i]} on A`);
    check(viaB, lines, `operation ${ids[i]} via B`);
  });
  const stored = await storedDelays(db, ids);
  return { stored, onA: ended.flatMap(([onA]) => delays(onA)), viaB: ended.flatMap(([, viaB]) => delays(viaB)), rate: lineRate(ended[0][0]) };
}

const stats = (values: number[]) => `${f1(median(values))} ms | ${f1(percentile(values, 90))} ms`;

interface Bench {
  a: ServiceProcess;
  b: ServiceProcess;
  db: pg.Client;
  sshd: SshdHost;
  /** Where the fake control scripts live (readable by the test user). */
  dir: string;
}

async function measure({ a, b, db, sshd, dir }: Bench): Promise<string> {
  const user = loadTestUser();
  const server = (script: string) => addServer(a, sshd, user, undefined, { controlScript: script });
  const quick = await server(fakeControlScript(dir, 'first', 30, 0));
  const steady = await server(fakeControlScript(dir, 'steady', LINES, WAIT_S));
  const pacedServer = await server(fakeControlScript(dir, 'paced', PACED_LINES, WAIT_S, PACED_INTERVAL_S));
  const loadScript = fakeControlScript(dir, 'load', LOAD_LINES, WAIT_S);
  const fleet = await Promise.all(Array.from({ length: LOAD_OPERATIONS }, () => server(loadScript)));
  const load = [loadavg()[0]];
  await firstEvent(a, quick); // the first handshake outside the timings
  const runs: { accepted: number; first: number }[] = [];
  for (let i = 0; i < FIRST_RUNS; i++) runs.push(await firstEvent(a, quick));
  const single = await relayed(a, b, db, [await startUpdate(a, steady)], LINES);
  const paced = await relayed(a, b, db, [await startUpdate(a, pacedServer)], PACED_LINES);
  const sessions = sshd.sessionsStarted();
  const cpu = [cpuSeconds(a.pid), cpuSeconds(b.pid)];
  const batchSent = wallClockMs();
  const { operations } = await a.api<{ operations: { operationId: string }[] }>('POST', '/api/operations/batch', { serverIds: fleet, action: 'update' });
  const many = await relayed(a, b, db, operations.map((o) => o.operationId), LOAD_LINES);
  const batchMs = wallClockMs() - batchSent;
  const cpuUsed = [cpuSeconds(a.pid) - cpu[0], cpuSeconds(b.pid) - cpu[1]];
  load.push(loadavg()[0]);
  return report(runs, single, paced, many, { batchMs, sessions: sshd.sessionsStarted() - sessions, load, cpuUsed });
}

async function main(): Promise<void> {
  const database = process.env.TEST_POSTGRES_URL;
  if (!database) throw new Error('TEST_POSTGRES_URL unset: run through npm run bench:operations (scripts/test.sh --run)');
  const dir = join(runDir(), `ops-bench-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o755 });
  chmodSync(dir, 0o755);
  const sshd = await startSshd({ address: '127.0.0.61', maxSessions: MAX_SESSIONS });
  // One CREDENTIALS_KEY for both: they share the servers table.
  const env = { DATABASE_URL: database, CREDENTIALS_KEY: randomBytes(32).toString('base64') };
  const services: ServiceProcess[] = [];
  const db = new pg.Client({ connectionString: database });
  try {
    services.push(await ServiceProcess.start(env), await ServiceProcess.start(env));
    await db.connect();
    console.log(await measure({ a: services[0], b: services[1], db, sshd, dir }));
  } finally {
    await db.end().catch(() => undefined);
    await Promise.all(services.map((service) => service.stop()));
    await sshd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

interface Delays {
  stored: number[];
  onA: number[];
  viaB: number[];
  /** Lines per second one operation's script printed. */
  rate: number;
}

interface BatchFacts {
  batchMs: number;
  sessions: number;
  load: number[];
  cpuUsed: number[];
}

function report(runs: { accepted: number; first: number }[], single: Delays, paced: Delays, many: Delays, extra: BatchFacts): string {
  const cpu = cpus();
  const minimumBatchS = WAIT_S + LOAD_LINES * INTERVAL_S;
  return [
    `Run ${new Date().toISOString()}, node ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? 'CPU'}, load average ${extra.load.map(f2).join(' → ')};`,
    `two dist/main.js (A, B) on one PostgreSQL, sshd MaxSessions ${MAX_SESSIONS} on loopback, key auth.`,
    '',
    `| from sending \`POST /api/servers/:id/actions/update\` (${runs.length} runs) | median | p90 |`,
    '|---|---|---|',
    `| … to its 202 | ${stats(runs.map((r) => r.accepted))} |`,
    `| … to the first SSE event (subscribed right after the 202) | ${stats(runs.map((r) => r.first))} |`,
    '',
    '| line printed on the host → SSE event received | lines | on A (runs it): median | p90 | relayed via B: median | p90 | of which host → row stored: median | p90 |',
    '|---|---|---|---|---|---|---|---|',
    `| 1 operation, ${paced.rate.toFixed(0)} lines/s (SteamCMD's pace) | ${paced.onA.length} | ${stats(paced.onA)} | ${stats(paced.viaB)} | ${stats(paced.stored)} |`,
    `| 1 operation, ${single.rate.toFixed(0)} lines/s | ${single.onA.length} | ${stats(single.onA)} | ${stats(single.viaB)} | ${stats(single.stored)} |`,
    `| ${LOAD_OPERATIONS} operations at once (one batch, one host), ${many.rate.toFixed(0)} lines/s each | ${many.onA.length} | ${stats(many.onA)} | ${stats(many.viaB)} | ${stats(many.stored)} |`,
    '',
    `The batch: ${LOAD_OPERATIONS} of ${LOAD_OPERATIONS} succeeded, every stream on A and B complete, ids without gaps; ${(extra.batchMs / 1000).toFixed(2)} s`,
    `from the POST to the last \`done\` (the scripts alone take ≥ ${minimumBatchS.toFixed(1)} s); sshd logged ${extra.sessions} sessions for it;`,
    `CPU used meanwhile: A ${f2(extra.cpuUsed[0])} s, B ${f2(extra.cpuUsed[1])} s.`,
    `Client clock check: Date.now() − (timeOrigin + performance.now()) = ${f2(Date.now() - wallClockMs())} ms at the end.`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
