// Per-command latency through the HTTP API of the built service (`node dist/main.js`): pooled with
// spare channels on and off, pool disabled, next to OpenSSH ControlMaster, on loopback and through
// the latency proxy. Part of `npm run bench:pool`.
import type { SshdHost, TestUser } from '../test/support/sshd.js';
import { sshServerBody } from '../test/support/ssh-servers.js';
import type { OpenSshMux } from './openssh-mux.js';
import { ServiceProcess } from '../test/support/service-process.js';
import { ms, ratio, sideBySide, timed, type Variant } from './stats.js';

export interface Link {
  /** Where the service dials sshd: sshd itself, or the latency proxy in front of it. */
  host: string;
  port: number;
  mux: OpenSshMux;
  runs: number;
}

const SERVICES = [
  { name: 'API, pooled, spare channels on', env: { SSH_SPARE_CHANNELS: 'true' } },
  { name: 'API, pooled, spare channels off', env: { SSH_SPARE_CHANNELS: 'false' } },
  { name: 'API, pool disabled', env: { SSH_POOL_ENABLED: 'false' } },
] as const;

/** Medians per variant and link; every variant runs `exec true` with key auth. */
export async function apiLatency(sshd: SshdHost, user: TestUser, links: Record<'loopback' | 'wan', Link>) {
  const services = await Promise.all(SERVICES.map((s) => ServiceProcess.start(s.env)));
  try {
    const results: Record<string, Map<string, number>> = {};
    for (const [linkName, link] of Object.entries(links)) {
      const body = sshServerBody(sshd, user, { host: link.host, sshPort: link.port, authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: user.privateKey });
      const ids = await Promise.all(services.map(async (s) => (await s.api<{ id: string }>('POST', '/api/servers', body)).id));
      const exec = (i: number) => () => timed(() => services[i].api('POST', `/api/servers/${ids[i]}/exec`, { command: 'true' }));
      for (let i = 0; i < services.length; i++) for (let w = 0; w < 3; w++) await exec(i)(); // connect, feature test, spares
      const variants: Variant[] = [
        ...SERVICES.map((s, i) => ({ name: s.name, run: exec(i), runs: i === 2 ? Math.max(6, Math.floor(link.runs / 5)) : link.runs })),
        { name: 'OpenSSH ControlMaster (`ssh host true`)', run: () => link.mux.run(), runs: link.runs },
        { name: 'HTTP floor (`GET /health/live`)', run: () => timed(() => fetch(`${services[0].base}/health/live`)), runs: link.runs },
      ];
      results[linkName] = await sideBySide(variants, linkName === 'wan' ? 5 : 10);
    }
    return results as Record<'loopback' | 'wan', Map<string, number>>;
  } finally {
    await Promise.all(services.map((s) => s.stop()));
  }
}

export function apiReport(results: Record<'loopback' | 'wan', Map<string, number>>, rttMs: number, links: Record<'loopback' | 'wan', Link>): string {
  const cm = 'OpenSSH ControlMaster (`ssh host true`)';
  const base = { loopback: results.loopback.get(cm)!, wan: results.wan.get(cm)! };
  const rows = [...results.loopback.keys()].map((name) => {
    const l = results.loopback.get(name)!;
    const w = results.wan.get(name)!;
    return `| ${name} | ${ms(l)} | ${ratio(l / base.loopback)} | ${ms(w)} | ${ratio(w / base.wan)} | ${(w / rttMs).toFixed(2)} |`;
  });
  const on = results.wan.get(SERVICES[0].name)!;
  const off = results.wan.get(SERVICES[1].name)!;
  return [
    `Through the HTTP API of dist/main.js (\`POST /api/servers/:id/exec\` \`true\`, key auth, warm), up to ${links.loopback.runs} runs per variant on loopback and ${links.wan.runs} at ${rttMs} ms RTT, interleaved:`,
    '',
    `| exec \`true\` (median) | loopback | vs ControlMaster | ${rttMs} ms RTT proxy | vs ControlMaster | RTT multiples |`,
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Spare channels at ${rttMs} ms RTT: ${(on / rttMs).toFixed(2)} RTT (target ≤ 1.30), against ${(off / rttMs).toFixed(2)} RTT without; ${ratio(base.wan / on)} faster than ControlMaster.`,
  ].join('\n');
}
