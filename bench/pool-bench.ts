// `npm run bench:pool`: medians of `exec true` on one sshd, pooled vs pool-disabled vs OpenSSH's
// ControlMaster, on loopback and through a proxy adding 25 ms each way: first through the HTTP API of
// the built service (spare channels on and off, api-latency.ts), then in process. Prints a markdown report.
import { SshConnector, type ConnectParams } from '../src/ssh-pool/ssh-connector.js';
import type { SshPoolService } from '../src/ssh-pool/ssh-pool.service.js';
import type { SshTarget } from '../src/ssh-pool/ssh-pool.types.js';
import { createPool } from '../test/support/pool-module.js';
import { loadTestUser, startSshd } from '../test/support/sshd.js';
import { bareClient, bareExec, execBreakdown } from './exec-breakdown.js';
import { startLatencyProxy } from '../test/support/latency-proxy.js';
import { apiLatency, apiReport } from './api-latency.js';
import { OpenSshMux } from './openssh-mux.js';
import { ms, ratio, sideBySide, timed } from './stats.js';

const ONE_WAY_MS = 25;

/** The pool as shipped, but with Nagle's algorithm left on (ssh2's default), for comparison. */
class NagleConnector extends SshConnector {
  override connect(params: ConnectParams) {
    return super.connect({ ...params, noDelay: false });
  }
}

const execTrue = (pool: SshPoolService, target: SshTarget) => () => timed(() => pool.exec(target, 'true'));

async function main(): Promise<void> {
  const runs = Number(process.env.BENCH_RUNS ?? 200);
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.7' });
  const proxy = await startLatencyProxy({ host: sshd.host, port: sshd.port }, ONE_WAY_MS);
  const key = { type: 'KEY_FILE' as const, privateKey: user.privateKey };
  const direct: SshTarget = { host: sshd.host, port: sshd.port, username: user.username, auth: key };
  const wan: SshTarget = { ...direct, host: '127.0.0.1', port: proxy.port };
  const password = { type: 'PASSWORD' as const, password: user.password };
  const pooled = await createPool({ HOST_KEY_POLICY: 'off' });
  const noSpares = await createPool({ HOST_KEY_POLICY: 'off', SSH_SPARE_CHANNELS: 'false' });
  const nagle = await createPool({ HOST_KEY_POLICY: 'off' }, new NagleConnector());
  const unpooled = await createPool({ HOST_KEY_POLICY: 'off', SSH_POOL_ENABLED: 'false' });
  const muxLocal = new OpenSshMux(direct.host, direct.port, user.username, user.privateKey);
  const muxWan = new OpenSshMux(wan.host, wan.port, user.username, user.privateKey);
  const bare = await bareClient(direct.host, direct.port, user, true);
  const bareNagle = await bareClient(direct.host, direct.port, user, false);
  try {
    await Promise.all([muxLocal.start(), muxWan.start()]);
    const links = {
      loopback: { host: direct.host, port: direct.port, mux: muxLocal, runs: Math.min(runs, 100) },
      wan: { host: wan.host, port: wan.port, mux: muxWan, runs: Number(process.env.BENCH_WAN_RUNS ?? 30) },
    };
    console.log(`${apiReport(await apiLatency(sshd, user, links), 2 * ONE_WAY_MS, links)}\n`);
    for (const p of [pooled.pool, noSpares.pool, nagle.pool]) for (const t of [direct, wan]) for (let i = 0; i < 2; i++) await p.exec(t, 'true'); // warm up
    const local = await sideBySide([
      { name: 'pooled', run: execTrue(pooled.pool, direct), runs },
      { name: 'pooled, spare channels off', run: execTrue(noSpares.pool, direct), runs },
      { name: 'bare ssh2 connection, no pool (floor)', run: async () => (await bareExec(bare)).total, runs },
      { name: 'pooled, Nagle on', run: execTrue(nagle.pool, direct), runs: Math.min(runs, 60) },
      { name: 'OpenSSH ControlMaster', run: () => muxLocal.run(), runs: Math.min(runs, 100) },
      { name: 'pool disabled', run: execTrue(unpooled.pool, direct), runs: Math.min(runs, 40) },
      { name: 'pool disabled, password auth', run: execTrue(unpooled.pool, { ...direct, auth: password }), runs: Math.min(runs, 40) },
    ]);
    const remote = await sideBySide([
      { name: 'pooled', run: execTrue(pooled.pool, wan), runs: 20 },
      { name: 'pooled, spare channels off', run: execTrue(noSpares.pool, wan), runs: 20 },
      { name: 'pooled, Nagle on', run: execTrue(nagle.pool, wan), runs: 10 },
      { name: 'OpenSSH ControlMaster', run: () => muxWan.run(), runs: 10 },
      { name: 'pool disabled', run: execTrue(unpooled.pool, wan), runs: 6 },
      { name: 'pool disabled, password auth', run: execTrue(unpooled.pool, { ...wan, auth: password }), runs: 6 },
    ]);
    const phases = [await execBreakdown(bare, 100), await execBreakdown(bareNagle, 40)];
    console.log(report(local, remote, phases, runs));
  } finally {
    muxLocal.stop();
    muxWan.stop();
    bare.end();
    bareNagle.end();
    await Promise.all([pooled.app.close(), noSpares.app.close(), nagle.app.close(), unpooled.app.close()]);
    await proxy.close();
    await sshd.stop();
  }
}

function report(local: Map<string, number>, remote: Map<string, number>, phases: Awaited<ReturnType<typeof execBreakdown>>[], runs: number): string {
  const rtt = 2 * ONE_WAY_MS;
  const base = { local: local.get('OpenSSH ControlMaster')!, remote: remote.get('OpenSSH ControlMaster')! };
  const rows = [...local.keys()].map((name) => {
    const l = local.get(name)!;
    const r = remote.get(name);
    const wanCells = r === undefined ? '– | – | –' : `${ms(r)} | ${ratio(r / base.remote)} | ${(r / rtt).toFixed(2)}`;
    return `| ${name} | ${ms(l)} | ${ratio(l / base.local)} | ${wanCells} |`;
  });
  const pooledL = local.get('pooled')!;
  const pooledR = remote.get('pooled')!;
  return [
    `Run ${new Date().toISOString()}, node ${process.version}, up to ${runs} runs per variant on loopback, interleaved in blocks of 10 back-to-back runs; pooled rows use key auth on a warm connection, spare channels on unless the row says otherwise.`,
    '',
    `| exec \`true\` (median) | loopback | vs ControlMaster | ${rtt} ms RTT proxy | vs ControlMaster | round trips |`,
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `Pool disabled ÷ pooled (key auth): ${ratio(local.get('pool disabled')! / pooledL)} on loopback, ${ratio(remote.get('pool disabled')! / pooledR)} at ${rtt} ms RTT.`,
    `Pool disabled ÷ pooled (password auth): ${ratio(local.get('pool disabled, password auth')! / pooledL)} on loopback, ${ratio(remote.get('pool disabled, password auth')! / pooledR)} at ${rtt} ms RTT.`,
    '',
    `Pooled ÷ bare ssh2 connection: ${ratio(pooledL / local.get('bare ssh2 connection, no pool (floor)')!)} on loopback.`,
    '',
    '| reused bare ssh2 exec phases (loopback, median) | open + exec accepted | until exit status | until channel closed | total |',
    '|---|---|---|---|---|',
    `| TCP_NODELAY on (the pool) | ${ms(phases[0].openAndExec)} | ${ms(phases[0].untilExit)} | ${ms(phases[0].untilClose)} | ${ms(phases[0].total)} |`,
    `| Nagle on (ssh2 default) | ${ms(phases[1].openAndExec)} | ${ms(phases[1].untilExit)} | ${ms(phases[1].untilClose)} | ${ms(phases[1].total)} |`,
  ].join('\n');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
