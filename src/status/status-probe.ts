import { shellQuote } from '../common/shell-quote.js';
import { normalizeDirectory } from './process-match.js';

/** Candidate processes read per probe; beyond this the answer says it is incomplete. */
export const MAX_PROBED_PROCESSES = 64;
/** Bytes of each candidate's /proc/<pid>/cmdline read; a longer command line loses its tail. */
export const MAX_CMDLINE_BYTES = 4096;

/**
 * The fixed probe, run by `sh` as the server's SSH user. Its positional arguments are the game
 * directories of every server on the host; they are only ever expanded inside double quotes (as grep
 * patterns and `case` patterns matched literally), never parsed as code. It prints
 *   `H <CLK_TCK> <uptime seconds>`, then per candidate `P <pid> <start ticks>`, `C <cwd>` when the
 *   working directory could be read (and is plain), and the NUL-separated argv as `od` hex; then `T`
 *   when the candidate list was cut, and `E` at the end.
 * Candidates hold `-port` in their command line (the rule needs it) and either hold a game directory
 * there too (absolute paths) or run inside one (`./cs2` started from the game directory, as LinuxGSM
 * does). The probe and the login shell that started it are left out: their argv hold the directories.
 * The exact rule (the game's executable of the directory) is applied by matchServer on the decoded argv. Only shell builtins run per process,
 * plus one `od` per candidate.
 */
export const PROBE_SCRIPT = [
  'export LC_ALL=C',
  'hz=$(getconf CLK_TCK) || exit 3',
  'read -r up idle < /proc/uptime || exit 3',
  'echo "H $hz $up"',
  'for d do shift; set -- "$@" -e "$d"; done',
  'nl="',
  '"',
  'ports=$(grep -l -s -F -e -port /proc/[0-9]*/cmdline)',
  'named=',
  '[ -z "$ports" ] || named=$(grep -l -s -F "$@" $ports)',
  'n=0',
  'for f in $ports; do',
  '  p=${f#/proc/}; p=${p%/cmdline}',
  '  [ "$p" = "$$" ] || [ "$p" = "$PPID" ] && continue',
  '  c=',
  '  if cd -P "/proc/$p/cwd" 2>/dev/null; then c=$PWD; cd /; fi',
  '  keep=',
  '  case "$nl$named$nl" in *"$nl$f$nl"*) keep=1 ;; esac',
  '  if [ -z "$keep" ] && [ -n "$c" ]; then',
  '    for d do',
  '      [ "$d" = -e ] && continue',
  '      case "$c/" in "$d"/*) keep=1; break ;; esac',
  '    done',
  '  fi',
  '  [ -n "$keep" ] || continue',
  '  { read -r s < "/proc/$p/stat"; } 2>/dev/null || continue',
  '  s=${s##*) }; i=0',
  '  while [ "$i" -lt 19 ]; do s=${s#* }; i=$((i + 1)); done',
  '  s=${s%% *}',
  '  case $s in "" | *[!0-9]*) continue ;; esac',
  '  n=$((n + 1))',
  `  if [ "$n" -gt ${MAX_PROBED_PROCESSES} ]; then echo T; break; fi`,
  '  echo "P $p $s"',
  '  case $c in "" | *[!A-Za-z0-9._/-]*) ;; *) echo "C $c" ;; esac',
  `  od -An -v -tx1 -N ${MAX_CMDLINE_BYTES} "/proc/$p/cmdline" 2>/dev/null`,
  'done',
  'echo E',
].join('\n');

/**
 * Bytes of quoted directories per probe command. sshd hands the whole command to the login shell as
 * one argument, which Linux caps at 128 KiB (MAX_ARG_STRLEN): a host with more is probed in parts.
 */
export const MAX_PROBE_DIRECTORY_BYTES = 64 * 1024;

/**
 * The command lines the pool runs, `sh -c '<script>' sh '<dir>'…` with every value a quoted argument:
 * one, unless the directories need more than MAX_PROBE_DIRECTORY_BYTES.
 */
export function probeCommands(directories: readonly string[]): string[] {
  const chunks: string[][] = [[]];
  let bytes = 0;
  for (const quoted of [...new Set(directories.map(normalizeDirectory))].map(shellQuote)) {
    if (bytes + quoted.length + 1 > MAX_PROBE_DIRECTORY_BYTES && chunks[chunks.length - 1].length > 0) {
      chunks.push([]);
      bytes = 0;
    }
    chunks[chunks.length - 1].push(quoted);
    bytes += quoted.length + 1;
  }
  return chunks.map((chunk) => ['sh', '-c', shellQuote(PROBE_SCRIPT), 'sh', ...chunk].join(' '));
}

export interface ProbedProcess {
  pid: number;
  /** Start time in clock ticks since boot (/proc/<pid>/stat field 22). */
  startTicks: number;
  /** Working directory (physical), when the SSH user may read it; resolves a relative executable. */
  cwd: string | null;
  argv: string[];
}

export interface ProbeSnapshot {
  clockTicksPerSecond: number;
  uptimeSeconds: number;
  processes: ProbedProcess[];
  /** More candidates existed than were read: a server not found may still be running. */
  truncated: boolean;
}

/** The probe's output did not have the expected shape (not the script's, or cut short). */
export class ProbeOutputError extends Error {
  override name = 'ProbeOutputError';
}

const HEADER = /^H (\d+) (\d+(?:\.\d+)?)$/;
const PROCESS = /^P (\d+) (\d+)$/;
const CWD = /^C (\/[A-Za-z0-9._/-]*)$/;
const HEX_LINE = /^(?:\s*[0-9a-f]{2})+\s*$/;

/** Parses the probe's stdout. @throws ProbeOutputError when the header or the end marker is missing */
export function parseProbeOutput(stdout: string): ProbeSnapshot {
  const lines = stdout.split('\n');
  const header = HEADER.exec(lines[0] ?? '');
  if (!header || Number(header[1]) <= 0) throw new ProbeOutputError('probe output has no valid header');
  const snapshot: ProbeSnapshot = { clockTicksPerSecond: Number(header[1]), uptimeSeconds: Number(header[2]), processes: [], truncated: false };
  const hex: string[][] = [];
  for (const line of lines.slice(1)) {
    const started = PROCESS.exec(line);
    const cwd = CWD.exec(line);
    if (started) {
      snapshot.processes.push({ pid: Number(started[1]), startTicks: Number(started[2]), cwd: null, argv: [] });
      hex.push([]);
    } else if (cwd && hex.length > 0) {
      snapshot.processes[snapshot.processes.length - 1].cwd = cwd[1];
    } else if (HEX_LINE.test(line) && hex.length > 0) {
      hex[hex.length - 1].push(line);
    } else if (line === 'T') {
      snapshot.truncated = true;
    } else if (line === 'E') {
      snapshot.processes.forEach((p, i) => (p.argv = decodeArgv(hex[i].join(' '))));
      return snapshot;
    } else if (line !== '') {
      throw new ProbeOutputError('probe output has an unexpected line');
    }
  }
  throw new ProbeOutputError('probe output ended before its end marker');
}

/** One snapshot of the probes of a host's parts: each process once, incomplete when any part was. */
export function mergeSnapshots([first, ...rest]: readonly ProbeSnapshot[]): ProbeSnapshot {
  const processes = new Map(first.processes.map((p) => [p.pid, p]));
  for (const snapshot of rest) for (const p of snapshot.processes) if (!processes.has(p.pid)) processes.set(p.pid, p);
  return { ...first, processes: [...processes.values()], truncated: [first, ...rest].some((s) => s.truncated) };
}

/** NUL-separated argv from od's hex; a command line cut at the read limit loses its partial last argument. */
export function decodeArgv(hex: string): string[] {
  const bytes = Buffer.from(hex.replace(/\s+/g, ''), 'hex');
  if (bytes.length === 0) return [];
  const args = bytes.toString('latin1').split('\0');
  // Drops the empty string after the final NUL, or the tail cut at the read limit (incomplete).
  if (bytes[bytes.length - 1] === 0 || bytes.length >= MAX_CMDLINE_BYTES) args.pop();
  return args;
}
