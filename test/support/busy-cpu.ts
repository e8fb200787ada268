import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';

/**
 * Spins one busy loop per core (default) in child processes, so that sshd and the pool compete for
 * CPU as on a loaded host. stop() kills exactly those children.
 */
export function startBusyLoops(count = availableParallelism()): { stop(): void } {
  const children = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    stop: () => {
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
