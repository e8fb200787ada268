// Extra SSH key pairs made with ssh-keygen for specs about key handling (costly KDFs, other types).
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runDir } from './test-user.js';

export interface GeneratedKey {
  path: string;
  privateKey: string;
  publicKey: string;
}

export interface KeyOptions {
  type?: 'ed25519' | 'rsa' | 'ecdsa';
  /** bcrypt-pbkdf rounds (`ssh-keygen -a`); only used with a passphrase. */
  rounds?: number;
  passphrase?: string;
}

/** Writes `<dir>/<name>` (mode 0600) and `<name>.pub`. */
export function generateKey(dir: string, name: string, options: KeyOptions = {}): GeneratedKey {
  const path = join(dir, name);
  const args = ['-q', '-t', options.type ?? 'ed25519', '-N', options.passphrase ?? '', '-C', `${name}@cs2-ssh-pool-test`, '-f', path];
  if (options.type === 'rsa') args.push('-b', '2048');
  if (options.rounds !== undefined) args.push('-a', String(options.rounds));
  execFileSync('ssh-keygen', args, { stdio: 'ignore' });
  return { path, privateKey: readFileSync(path, 'utf8'), publicKey: readFileSync(`${path}.pub`, 'utf8').trim() };
}

/** Lets the harness's test user log in with `key` on every harness sshd (they share one authorized_keys). */
export function authorizeKey(key: GeneratedKey): void {
  appendFileSync(join(runDir(), 'authorized_keys'), `${key.publicKey}\n`);
}
