import { execFileSync } from 'node:child_process';
import type { TestUser } from './test-user.js';

/**
 * Pids of the test user's processes whose command line contains `marker` (the harness's sshd runs
 * on this machine, so its commands are local processes).
 */
function remotePids(user: TestUser, marker: string): number[] {
  try {
    return execFileSync('pgrep', ['-u', user.username, '-f', marker], { encoding: 'utf8' }).trim().split('\n').map(Number);
  } catch (error) {
    // pgrep exits 1 when nothing matches; anything else (no pgrep, an unknown user) is not "no process".
    if ((error as { status?: number }).status === 1) return [];
    throw error;
  }
}

/** How many such processes run; with `kill`, signals each of them by pid first (test cleanup). */
export function remoteProcesses(user: TestUser, marker: string, kill?: NodeJS.Signals): number {
  const pids = remotePids(user, marker);
  if (kill) for (const pid of pids) process.kill(pid, kill);
  return pids.length;
}
