// Shared steps of the operations specs: servers that point at a fake LinuxGSM install, actions, waiting
// for an operation to finish, its event stream, and the checks every finished stream must pass.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { TEST_TOKEN, type TestApp } from '../support/app.js';
import { scratchDir } from '../support/databases.js';
import { eventually } from '../support/eventually.js';
import { openSse, type SseConnection, type SseEvent } from '../support/sse.js';
import { sshServerBody } from '../support/ssh-servers.js';
import type { SshdHost, TestUser } from '../support/sshd.js';
import type { FakeCs2Server } from './fake-cs2server.js';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
export const UNKNOWN_ID = '6f1c2b9e-8d4a-4f3e-9b7c-2a1d0e5f6a7b';

export type Action = 'start' | 'stop' | 'restart' | 'update' | 'validate';
export type Status = 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';

export interface Operation {
  id: string;
  serverId: string;
  action: Action;
  status: Status;
  exitCode: number | null;
  startedAt: string;
  finishedAt: string | null;
  progress: number | null;
  outputTail: string;
  error: { code: string; message: string } | null;
}

export interface Started {
  operationId: string;
  serverId: string;
  action: Action;
  status: 'running';
}

/** Anything that answers the operations API: an in-process TestApp or a ServiceProcess, by base URL. */
export interface OpsClient {
  base: string;
  token: string;
  request<T = unknown>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }>;
}

/** Makes the in-process app listen on loopback (SSE needs a real socket) and wraps it as an OpsClient. */
export async function opsClient(t: TestApp): Promise<OpsClient> {
  await t.app.listen(0, '127.0.0.1');
  const base = `http://127.0.0.1:${((t.app.getHttpServer() as Server).address() as AddressInfo).port}`;
  return { base, token: TEST_TOKEN, request: (method, path, body) => fetchJson(base, TEST_TOKEN, method, path, body) };
}

export async function fetchJson<T>(base: string, token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

/** A 2xx body, or throws with the status and body (so a failing step says why). */
export async function expectStatus<T>(client: OpsClient, status: number, method: string, path: string, body?: unknown): Promise<T> {
  const res = await client.request<T>(method, path, body);
  if (res.status !== status) throw new Error(`${method} ${path}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Registers a server whose controlScript is the fake's `cs2server`. */
export async function addServer(client: OpsClient, sshd: SshdHost, user: TestUser, fake: FakeCs2Server, extra: Record<string, unknown> = {}): Promise<string> {
  const body = sshServerBody(sshd, user, { gameDirectory: fake.gameDirectory, gamePort: fake.gamePort, controlScript: fake.controlScript, ...extra });
  return (await expectStatus<{ id: string }>(client, 201, 'POST', '/api/servers', body)).id;
}

export function act(client: OpsClient, serverId: string, action: string): Promise<Started> {
  return expectStatus<Started>(client, 202, 'POST', `/api/servers/${serverId}/actions/${action}`);
}

export function getOperation(client: OpsClient, id: string): Promise<Operation> {
  return expectStatus<Operation>(client, 200, 'GET', `/api/operations/${id}`);
}

/** Polls GET /api/operations/:id until it is no longer running. */
export async function finished(client: OpsClient, id: string, timeoutMs = 20_000): Promise<Operation> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const op = await getOperation(client, id);
    if (op.status !== 'running') return op;
    if (Date.now() > deadline) throw new Error(`operation ${id} still running after ${timeoutMs} ms: ${JSON.stringify(op)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export function events(client: OpsClient, id: string, lastEventId?: number | string): Promise<SseConnection> {
  return openSse(`${client.base}/api/operations/${id}/events`, { token: client.token, lastEventId });
}

export interface OutputData {
  stream: 'stdout' | 'stderr';
  line: string;
}

/** Lines per stream, in event order. */
export function linesByStream(list: SseEvent[]): { stdout: string[]; stderr: string[] } {
  const output = list.filter((e) => e.event === 'output').map((e) => e.data as OutputData);
  return { stdout: output.filter((o) => o.stream === 'stdout').map((o) => o.line), stderr: output.filter((o) => o.stream === 'stderr').map((o) => o.line) };
}

export const percents = (list: SseEvent[]): number[] => list.filter((e) => e.event === 'progress').map((e) => (e.data as { percent: number }).percent);

/** Strips receivedAt, for comparing two subscribers' views of one operation. */
export const plain = (list: SseEvent[]) => list.map(({ id, event, data }) => ({ id, event, data }));

/**
 * The invariants of a complete stream: ids 1..n with no gap, only output/progress/done events, exactly
 * one `done` and it is last, each progress after the output event of the line that carried it.
 */
export function expectCompleteStream(list: SseEvent[], done: { status: Status; exitCode: number | null }): void {
  expect(list.map((e) => e.id)).toEqual(list.map((_, i) => i + 1));
  expect(list.filter((e) => !['output', 'progress', 'done'].includes(e.event))).toEqual([]);
  expect(list.filter((e) => e.event === 'done')).toHaveLength(1);
  expect(list.at(-1)).toMatchObject({ event: 'done', data: done });
  list.forEach((e, i) => {
    if (e.event !== 'progress') return;
    const percent = (e.data as { percent: number }).percent.toFixed(2);
    const source = list.slice(0, i).findIndex((o) => o.event === 'output' && (o.data as OutputData).line.includes(`progress: ${percent} `));
    expect({ progress: e.id, after: source >= 0 }).toEqual({ progress: e.id, after: true });
  });
}

/** A control script whose actions print, record their pid, run `seconds` (a `sleep`), print again; `prelude` runs first. */
export function sleepingScript(seconds: number | string, prelude = ''): { path: string; pidFile: string } {
  const dir = scratchDir('ops-script');
  chmodSync(dir, 0o777);
  const pidFile = join(dir, 'update.pid');
  const path = join(dir, 'cs2server');
  writeFileSync(path, `#!/bin/sh\n${prelude}echo "begin $1"\necho $$ > ${pidFile}\nsleep ${seconds}\necho "end $1"\n`);
  chmodSync(path, 0o755);
  return { path, pidFile };
}

/** The pid the script recorded once it runs on the host. */
export async function startedPid(pidFile: string): Promise<number> {
  await eventually('the script to start on the host', () => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '', 5000);
  return Number(readFileSync(pidFile, 'utf8'));
}

/** Polls an async condition every 50 ms; after `timeoutMs` rejects naming `what`. */
export async function until(what: string, condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
