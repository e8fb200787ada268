import { posix } from 'node:path';
import type { ProbedProcess, ProbeSnapshot } from './status-probe.js';

/** `/srv/cs2/` and `/srv/cs2` name the same directory; the probe and the matcher use this form. */
export function normalizeDirectory(directory: string): string {
  const trimmed = directory.replace(/\/+$/, '');
  return trimmed === '' ? '/' : trimmed;
}

/**
 * True when `arg` is an absolute path that is `directory` or lies below it by whole path components.
 * `..` and repeated slashes are resolved first, so `/srv/cs2/../cs2-old/x` is not inside `/srv/cs2`.
 */
export function isPathInside(arg: string, directory: string): boolean {
  if (!arg.startsWith('/')) return false;
  const path = normalizeDirectory(posix.normalize(arg));
  const base = normalizeDirectory(directory);
  return path === base || path.startsWith(base === '/' ? '/' : `${base}/`);
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

/** The contract's `running` rule for one process: a path inside the directory, and `-port <port>`. */
export function runsServer(process: ProbedProcess, directory: string, port: number): boolean {
  const paths = [executablePath(process), ...process.argv.slice(1)];
  return paths.some((path) => path !== null && isPathInside(path, directory)) && hasPortPair(process.argv, port);
}

export interface ServerMatch {
  pid: number;
  uptimeSeconds: number;
}

/**
 * The process that runs the server, if any. When several match (a wrapper and the binary), the one
 * whose own executable path lies in the directory wins, then the oldest.
 */
export function matchServer(snapshot: ProbeSnapshot, directory: string, port: number): ServerMatch | null {
  const candidates = snapshot.processes.filter((p) => runsServer(p, directory, port));
  if (candidates.length === 0) return null;
  const rank = (p: ProbedProcess) => {
    const exe = executablePath(p);
    return exe !== null && isPathInside(exe, directory) ? 0 : 1;
  };
  candidates.sort((a, b) => rank(a) - rank(b) || a.startTicks - b.startTicks || a.pid - b.pid);
  const best = candidates[0];
  const started = best.startTicks / snapshot.clockTicksPerSecond;
  return { pid: best.pid, uptimeSeconds: Math.max(0, Math.floor(snapshot.uptimeSeconds - started)) };
}
