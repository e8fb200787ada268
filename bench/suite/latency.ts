// Section 1: per-command latency through the HTTP API (POST /api/servers/:id/exec `true`): pool on with
// spare channels on and off, pool off, next to OpenSSH ControlMaster; loopback and a 50 ms RTT proxy.
import { startLatencyProxy } from '../../test/support/latency-proxy.js';
import { ServiceProcess } from '../../test/support/service-process.js';
import { loadTestUser, startSshd } from '../../test/support/sshd.js';
import { OpenSshMux } from '../openssh-mux.js';
import { median } from '../stats.js';
import { addServer, exec, f2, pick, poolExecSeconds, timed } from './common.js';

export const ONE_WAY_MS = 25;
export const RTT_MS = 2 * ONE_WAY_MS;

export interface LatencyRow {
  variant: string;
  loopback: number;
  wan: number;
}

const VARIANTS: { variant: string; env: Record<string, string> }[] = [
  { variant: 'pool on, spares on', env: { SSH_SPARE_CHANNELS: 'true' } },
  { variant: 'pool on, spares off', env: { SSH_SPARE_CHANNELS: 'false' } },
  { variant: 'pool off', env: { SSH_POOL_ENABLED: 'false' } },
];

type Sampler = { name: string; run: () => Promise<number>; runs: number };

/** Interleaves the samplers in blocks of 5 so machine noise hits them alike; returns medians. */
async function interleaved(samplers: Sampler[]): Promise<Map<string, number>> {
  const samples = new Map(samplers.map((s) => [s.name, [] as number[]]));
  const rounds = Math.max(...samplers.map((s) => s.runs));
  for (let round = 0; round < rounds; round += 5) {
    for (const s of samplers) {
      for (let i = round; i < Math.min(round + 5, s.runs); i++) samples.get(s.name)!.push(await s.run());
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

export interface LatencyResult {
  rows: LatencyRow[];
  floor: number; // GET /health/live, same client
  overhead: number; // median of per-sample (API exec − the pool's own exec − GET /health/live), pool on + spares on, loopback
  markdown: string;
}

export async function latencySection(): Promise<LatencyResult> {
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.71' });
  const proxy = await startLatencyProxy({ host: sshd.host, port: sshd.port }, ONE_WAY_MS);
  const wan = { host: '127.0.0.1', port: proxy.port };
  const services = await Promise.all(VARIANTS.map((v) => ServiceProcess.start(v.env)));
  const muxLocal = new OpenSshMux(sshd.host, sshd.port, user.username, user.privateKey);
  const muxWan = new OpenSshMux(wan.host, wan.port, user.username, user.privateKey);
  try {
    await Promise.all([muxLocal.start(), muxWan.start()]);
    const ids = await Promise.all(services.map(async (s) => [await addServer(s, sshd, user), await addServer(s, sshd, user, wan)]));
    for (const [i, s] of services.entries()) for (const id of ids[i]) await exec(s, id); // warm up
    const [n, w] = [pick(100, 10), pick(30, 4)];
    const overhead: number[] = []; // API exec − the pool's own exec − a paired GET /health/live, pool on + spares on, loopback
    const poolSeconds = (s: ServiceProcess) => fetch(`${s.base}/metrics`).then((r) => r.text()).then(poolExecSeconds);
    const http = (s: ServiceProcess, id: string, sink?: number[]) => async () => {
      const before = sink && (await poolSeconds(s)); // read outside the timed request
      const live = sink ? await timed(() => fetch(`${s.base}/health/live`).then((r) => r.text())) : 0;
      const started = performance.now();
      const res = await exec(s, id);
      const elapsed = performance.now() - started;
      if (res.status !== 200 || res.body.exitCode !== 0) throw new Error(`exec: ${res.status} ${JSON.stringify(res.body)}`);
      if (sink && before !== undefined) sink.push(elapsed - ((await poolSeconds(s)) - before) * 1000 - live);
      return elapsed;
    };
    const liveness = { name: 'HTTP floor', run: () => timed(() => fetch(`${services[0].base}/health/live`).then((r) => r.text())), runs: n };
    const local = await interleaved([
      ...VARIANTS.map((v, i) => ({ name: v.variant, run: http(services[i], ids[i][0], i === 0 ? overhead : undefined), runs: 'SSH_POOL_ENABLED' in v.env ? Math.ceil(n / 2) : n })),
      { name: 'OpenSSH ControlMaster', run: () => muxLocal.run(), runs: n }, liveness,
    ]);
    const remote = await interleaved([
      ...VARIANTS.map((v, i) => ({ name: v.variant, run: http(services[i], ids[i][1]), runs: 'SSH_POOL_ENABLED' in v.env ? Math.ceil(w / 2) : w })),
      { name: 'OpenSSH ControlMaster', run: () => muxWan.run(), runs: w },
    ]);
    const rows = [...VARIANTS.map((v) => v.variant), 'OpenSSH ControlMaster'].map((variant) => ({ variant, loopback: local.get(variant)!, wan: remote.get(variant)! }));
    const floor = local.get('HTTP floor')!;
    return { rows, floor, overhead: median(overhead), markdown: latencyTable(rows, floor, median(overhead), n, w) };
  } finally {
    muxLocal.stop();
    muxWan.stop();
    await Promise.all(services.map((s) => s.stop()));
    await proxy.close();
    await sshd.stop();
  }
}

function latencyTable(rows: LatencyRow[], floor: number, overhead: number, n: number, w: number): string {
  const cm = rows.find((r) => r.variant === 'OpenSSH ControlMaster')!;
  return [
    `Medians of up to ${n} runs on loopback and ${w} at ${RTT_MS} ms RTT (pool-off rows: half as many), interleaved in blocks of 5; key auth.`,
    `What the HTTP API adds (pool on, loopback): median of per-sample API exec − the pool's own exec (growth of \`cs2_ssh_pool_exec_duration_seconds_sum\`, read untimed) − a \`GET /health/live\` sent just before from the same client: ${f2(overhead)} ms; HTTP floor (median of \`GET /health/live\`) ${f2(floor)} ms.`,
    '',
    `| exec \`true\` via HTTP (median) | loopback | vs ControlMaster | ${RTT_MS} ms RTT | vs ControlMaster | RTT multiples |`,
    '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.variant} | ${f2(r.loopback)} ms | ${f2(r.loopback / cm.loopback)}× | ${f2(r.wan)} ms | ${f2(r.wan / cm.wan)}× | ${f2(r.wan / RTT_MS)} |`),
  ].join('\n');
}
