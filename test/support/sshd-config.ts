// Files of one harness sshd: its ed25519 host key and sshd_config.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readUserFile, runDir } from './test-user.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshdFiles {
  host: string;
  port: number;
  maxSessions: number;
  dir: string;
  extraConfig: string[];
}

export const hostKeyPath = (dir: string): string => join(dir, 'ssh_host_ed25519_key');

/** Replaces the host key in `dir` with a fresh ed25519 key. */
export function generateHostKey(dir: string): void {
  const key = hostKeyPath(dir);
  rmSync(key, { force: true });
  rmSync(`${key}.pub`, { force: true });
  const res = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'cs2-test-host', '-f', key]);
  if (res.status !== 0) throw new Error(`ssh-keygen failed: ${res.stderr?.toString() ?? res.error?.message}`);
}

/** OpenSSH fingerprint ('SHA256:' + unpadded base64, as `ssh-keygen -lf` prints it). */
export function hostKeyFingerprint(dir: string): string {
  const blob = readFileSync(`${hostKeyPath(dir)}.pub`, 'utf8').trim().split(/\s+/)[1];
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

let penaltiesSupported: boolean | undefined; // PerSourcePenalties exists from OpenSSH 9.8 on

/** Writes `dir`/sshd_config and returns its path. */
export function writeSshdConfig(files: SshdFiles): string {
  const path = join(files.dir, 'sshd_config');
  const lines = [
    `ListenAddress ${files.host}:${files.port}`,
    `HostKey ${hostKeyPath(files.dir)}`,
    `PidFile ${join(files.dir, 'sshd.pid')}`,
    'LogLevel VERBOSE',
    `MaxSessions ${files.maxSessions}`,
    'PasswordAuthentication yes',
    'PubkeyAuthentication yes',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    `AuthorizedKeysFile ${join(runDir(), 'authorized_keys')}`,
    'StrictModes no',
    `AllowUsers ${readUserFile().username}`,
    'PermitRootLogin no',
    'MaxStartups 100:30:200',
    'MaxAuthTries 6',
    'ClientAliveInterval 0',
    'UseDNS no',
    ...files.extraConfig,
  ];
  writeFileSync(path, `${lines.join('\n')}\n`);
  penaltiesSupported ??=
    spawnSync(SSHD, ['-t', '-f', path, '-o', 'PerSourcePenalties=no'], { stdio: 'ignore' }).status === 0;
  if (penaltiesSupported) writeFileSync(path, `${lines.join('\n')}\nPerSourcePenalties no\n`);
  return path;
}
