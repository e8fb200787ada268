// Shared pieces of `npm run bench` (bench/bench.ts): quick mode, percentiles, server registration.
import { sshServerBody } from '../../test/support/ssh-servers.js';
import type { ServiceProcess } from '../../test/support/service-process.js';
import type { SshdHost, TestUser } from '../../test/support/sshd.js';

/** BENCH_QUICK=1: a smoke run of every section with few samples. */
export const QUICK = process.env.BENCH_QUICK === '1';
export const pick = <T>(full: T, quick: T): T => (QUICK ? quick : full);

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

export async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface Target {
  host: string;
  port: number;
}

/** Registers a key-auth server at `target` (a sshd or a proxy in front of one) and returns its id. */
export async function addServer(service: ServiceProcess, sshd: SshdHost, user: TestUser, target?: Target, extra: Record<string, unknown> = {}): Promise<string> {
  const body = sshServerBody(sshd, user, {
    authType: 'KEY_FILE', sshPassword: undefined, sshPrivateKey: user.privateKey,
    ...(target ? { host: target.host, sshPort: target.port } : {}), ...extra,
  });
  return (await service.api<{ id: string }>('POST', '/api/servers', body)).id;
}

export const exec = (service: ServiceProcess, id: string, command = 'true', timeoutMs?: number) =>
  service.request<{ exitCode: number | null; durationMs: number; code?: string }>('POST', `/api/servers/${id}/exec`, { command, ...(timeoutMs ? { timeoutMs } : {}) });

/** Runs `tasks` with at most `limit` in flight. */
export async function limited<T>(limit: number, tasks: (() => Promise<T>)[]): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}

/** Waits until no host holds a connection from us; returns what is left after `timeoutMs`. */
export async function leftConnections(hosts: SshdHost[], timeoutMs = 5000): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  const count = () => hosts.reduce((sum, h) => sum + h.openConnections(), 0);
  while (count() > 0 && Date.now() < deadline) await sleep(50);
  return count();
}

export const f1 = (v: number): string => v.toFixed(1);
export const f2 = (v: number): string => v.toFixed(2);

/** Sum (seconds) of the pool's exec histogram in /metrics text: its growth over one exec is the pool's own time. */
export function poolExecSeconds(metrics: string): number {
  const sums = [...metrics.matchAll(/^cs2_ssh_pool_exec_duration_seconds_sum(?:\{[^}]*\})? (\S+)$/gm)];
  return sums.reduce((total, match) => total + Number(match[1]), 0);
}
