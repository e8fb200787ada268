// Minimal /proc process-tree helpers for the sshd harness (Linux only).
import { readdirSync, readFileSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  ppid: number;
  state: string; // R, S, T (stopped), Z (zombie), ...
  startTime: string; // clock ticks since boot; distinguishes a reused pid
}
export type RootProcess = ProcessInfo;

function readProcess(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ..." — comm may contain spaces or parentheses.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: fields[0], ppid: Number(fields[1]), startTime: fields[19] };
  } catch {
    return undefined; // exited meanwhile
  }
}

export function listProcesses(): ProcessInfo[] {
  const all: ProcessInfo[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const info = readProcess(Number(name));
    if (info && info.state !== 'Z') all.push(info);
  }
  return all;
}

/** The live (non-zombie) roots and all their descendants. */
export function processTree(roots: number[]): ProcessInfo[] {
  const all = listProcesses();
  const wanted = new Set(roots);
  const result = all.filter((p) => wanted.has(p.pid));
  for (let i = 0; i < result.length; i++) {
    for (const p of all) {
      if (p.ppid === result[i].pid && !wanted.has(p.pid)) {
        wanted.add(p.pid);
        result.push(p);
      }
    }
  }
  return result;
}

/** True while the process recorded in `root` still runs (same pid and start time, not a zombie). */
export function aliveRoot(root: RootProcess): boolean {
  const now = readProcess(root.pid);
  return now !== undefined && now.state !== 'Z' && now.startTime === root.startTime;
}

export function signalAll(pids: number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** Spins (synchronously, at most `timeoutMs`) until each pid is stopped ('T'), a zombie or gone. */
export function waitUntilStopped(pids: number[], timeoutMs = 1000): void {
  const deadline = Date.now() + timeoutMs;
  let pending = pids;
  while (pending.length > 0 && Date.now() < deadline) {
    pending = pending.filter((pid) => {
      const state = readProcess(pid)?.state;
      return state !== undefined && state !== 'T' && state !== 't' && state !== 'Z';
    });
  }
}

/** True while `pid` runs and is not a zombie (nothing may reap orphans in this container). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
