// Event-loop cost of passphrase-protected keys (issue 6 item 2). Run by hand, see bench/README.md.
// For each bcrypt round count: ssh2 parsing the key on the event loop (what Client.connect did before),
// against the pool's first exec with that key (decoded in a worker) and a wrong passphrase (refused).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import ssh2 from 'ssh2';
import type { SshTarget } from '../src/ssh-pool/ssh-pool.types.js';
import { scratchDir } from '../test/support/databases.js';
import { authorizeKey, generateKey } from '../test/support/keys.js';
import { createPool } from '../test/support/pool-module.js';
import { loadTestUser, startSshd } from '../test/support/sshd.js';
import { median, ms } from './stats.js';

const ROUNDS = [16, 100, 200];
const REPEATS = Number(process.env.BENCH_RUNS ?? 5);
const PASSPHRASE = 'bench-passphrase';

/** The longest the event loop was held while `work` ran (1 ms resolution). */
async function worstLoopDelay(work: () => Promise<unknown>): Promise<number> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  await work().catch(() => undefined);
  histogram.disable();
  return histogram.max / 1e6;
}

async function main(): Promise<void> {
  const user = loadTestUser();
  const sshd = await startSshd({ address: '127.0.0.7' });
  const dir = scratchDir('bench-keys');
  const rows: string[] = [];
  try {
    for (const rounds of ROUNDS) {
      const onLoop: number[] = [];
      const firstExec: number[] = [];
      const wrong: number[] = [];
      for (let i = 0; i < REPEATS; i++) {
        const key = generateKey(dir, `id_${rounds}_${i}`, { passphrase: PASSPHRASE, rounds });
        authorizeKey(key);
        const started = performance.now();
        ssh2.utils.parseKey(key.privateKey, PASSPHRASE);
        onLoop.push(performance.now() - started);
        // A fresh pool each time: its KeyDecoder has not seen the key yet.
        const { app, pool } = await createPool({ SSH_KEY_MAX_KDF_ROUNDS: '400' });
        const target = (passphrase: string): SshTarget => ({ host: sshd.host, port: sshd.port, username: user.username, auth: { type: 'KEY_FILE', privateKey: key.privateKey, passphrase } });
        firstExec.push(await worstLoopDelay(() => pool.exec(target(PASSPHRASE), 'true')));
        wrong.push(await worstLoopDelay(() => pool.exec(target('wrong'), 'true')));
        await app.close();
      }
      rows.push(`| ${rounds} | ${ms(median(onLoop))} | ${ms(median(firstExec))} (max ${ms(Math.max(...firstExec))}) | ${ms(median(wrong))} (max ${ms(Math.max(...wrong))}) |`);
    }
  } finally {
    await sshd.stop();
  }
  console.log(`Run ${new Date().toISOString()}, node ${process.version}, ${REPEATS} keys per round count.\n`);
  console.log('| bcrypt rounds | ssh2 parse on the event loop (before) | worst loop delay, first exec (pool) | worst loop delay, wrong passphrase (pool) |');
  console.log('|---|---|---|---|');
  for (const row of rows) console.log(row);
}

await main();
