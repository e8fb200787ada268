import { Client } from 'ssh2';
import type { TestUser } from '../test/support/sshd.js';
import { median } from './stats.js';

export interface Breakdown {
  /** exec() until ssh2 reports the channel open and the exec request accepted (2 round trips). */
  openAndExec: number;
  /** exec accepted until the exit status arrives (sshd forks the shell, `true` runs). */
  untilExit: number;
  /** exit status until both sides closed the channel. */
  untilClose: number;
  total: number;
}

/** A bare ssh2 connection (no pool), key auth, with TCP_NODELAY on or off. */
export async function bareClient(host: string, port: number, user: TestUser, noDelay: boolean): Promise<Client> {
  const client = new Client();
  await new Promise<void>((resolve, reject) => {
    client.once('ready', resolve).once('error', reject);
    client.connect({ host, port, username: user.username, privateKey: user.privateKey });
    client.setNoDelay(noDelay);
  });
  return client;
}

/** One `true` on a bare connection, timed phase by phase. */
export function bareExec(client: Client): Promise<Breakdown> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    client.exec('true', (error, stream) => {
      if (error) return reject(error);
      const t1 = performance.now();
      let t2 = t1;
      stream.on('exit', () => (t2 = performance.now()));
      stream.on('close', () => {
        const t3 = performance.now();
        resolve({ openAndExec: t1 - t0, untilExit: t2 - t1, untilClose: t3 - t2, total: t3 - t0 });
      });
      stream.resume();
    });
  });
}

/** Medians of the phases of `runs` back-to-back execs on one reused bare connection. */
export async function execBreakdown(client: Client, runs: number): Promise<Breakdown> {
  const samples: Breakdown[] = [];
  for (let i = 0; i < runs; i++) samples.push(await bareExec(client));
  const pick = (k: keyof Breakdown) => median(samples.map((s) => s[k]));
  return { openAndExec: pick('openAndExec'), untilExit: pick('untilExit'), untilClose: pick('untilClose'), total: pick('total') };
}
