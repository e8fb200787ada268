import { posix } from 'node:path';
import type { ProbedProcess, ProbeSnapshot } from './status-probe.js';

/** `/srv/cs2/` and `/srv/cs2` name the same directory; the probe and the matcher use this form. */
export function normalizeDirectory(directory: string): string {
  const trimmed = directory.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/** The game's executable, relative to a server's game directory. */
export const CS2_EXECUTABLE = 'game/bin/linuxsteamrt64/cs2';

/**
 * True when `path` is `<directory>/game/bin/linuxsteamrt64/cs2`, once `.`, `..` and repeated slashes
 * are resolved (so `/srv/cs2/../cs2-old/…` is not the executable of `/srv/cs2`).
 */
export function isGameExecutable(path: string, directory: string): boolean {
  return path.startsWith('/') && posix.normalize(path) === posix.join(normalizeDirectory(directory), CS2_EXECUTABLE);
}

/** True when some argument is exactly `-port` and the next one is exactly the port's decimal form. */
export function hasPortPair(argv: readonly string[], port: number): boolean {
  const wanted = String(port);
  return argv.some((arg, i) => arg === '-port' && argv[i + 1] === wanted);
}

/**
 * The executable's path: argv[0] as is when absolute, resolved against the working directory when
 * relative with a slash (`./cs2`, how LinuxGSM starts it); a bare name came from PATH and is no path.
 */
export function executablePath(process: ProbedProcess): string | null {
  const exe = process.argv[0];
  if (exe === undefined || !exe.includes('/')) return null;
  if (exe.startsWith('/')) return exe;
  return process.cwd === null ? null : posix.join(process.cwd, exe);
}

/** The contract's `running` rule for one process: the game's executable of the directory, and `-port <port>`. */
export function runsServer(process: ProbedProcess, directory: string, port: number): boolean {
  const exe = executablePath(process);
  return exe !== null && isGameExecutable(exe, directory) && hasPortPair(process.argv, port);
}

export interface ServerMatch {
  pid: number;
  uptimeSeconds: number;
}

/** The process that runs the server, if any; when several match, the oldest. */
export function matchServer(snapshot: ProbeSnapshot, directory: string, port: number): ServerMatch | null {
  const candidates = snapshot.processes.filter((p) => runsServer(p, directory, port));
  if (candidates.length === 0) return null;
  candidates.sort((a, b) => a.startTicks - b.startTicks || a.pid - b.pid);
  const best = candidates[0];
  const started = best.startTicks / snapshot.clockTicksPerSecond;
  return { pid: best.pid, uptimeSeconds: Math.max(0, Math.floor(snapshot.uptimeSeconds - started)) };
}
