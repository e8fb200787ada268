// Callers of the internal TCP transport: Nest's own ClientProxy, and a raw socket for frames no client would send.
import { ClientProxyFactory, type ClientProxy, Transport } from '@nestjs/microservices';
import { connect, type Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import type { INestApplication, LoggerService } from '@nestjs/common';
import { createTestApp, TEST_TOKEN, type TestApp } from '../support/app.js';
import { createTestDatabase, type TestDatabase } from '../support/databases.js';
import { sshServerBody } from '../support/ssh-servers.js';
import { freePort, loadTestUser, startSshd, type SshdHost, type TestUser } from '../support/sshd.js';

export interface RpcCaller {
  client: ClientProxy;
  /** Sends `{ cmd }` with `token` (TEST_TOKEN unless the payload sets one) and resolves the reply or rejects with the RPC error. */
  call<T = unknown>(cmd: string, payload?: Record<string, unknown>): Promise<T>;
}

export async function rpcCaller(port: number): Promise<RpcCaller> {
  const client = ClientProxyFactory.create({ transport: Transport.TCP, options: { host: '127.0.0.1', port } });
  await client.connect();
  return {
    client,
    call: <T>(cmd: string, payload: Record<string, unknown> = {}) => firstValueFrom(client.send<T>({ cmd }, { token: TEST_TOKEN, ...payload })),
  };
}

/** The RPC error payload: the REST error body, correlation id included. */
export const rpcError = (statusCode: number, code: string, extra: Record<string, unknown> = {}) => ({
  statusCode,
  code,
  message: expect.any(String),
  correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
  ...extra,
});

/** The service's ends of the transport's open connections (Nest keeps them in a protected field: no public way to reach them). */
export function serviceSockets(app: INestApplication): Socket[] {
  const [transport] = app.getMicroservices() as unknown as { serverInstance: { openSockets: Set<Socket> } }[];
  return [...transport.serverInstance.openSockets];
}

/** What the transport's JsonSocket expects: `<length>#<json>`. */
export function frame(message: unknown): string {
  const json = JSON.stringify(message);
  return `${json.length}#${json}`;
}

export interface RawPeer {
  socket: Socket;
  received(): string;
  /** Resolves when the service closed (or reset) the connection. */
  closed: Promise<void>;
}

export function rawPeer(port: number): Promise<RawPeer> {
  return new Promise((resolve, reject) => {
    let received = '';
    const socket = connect(port, '127.0.0.1');
    // The service may reset a peer it refuses; that is an outcome here, not a test error.
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });
}

/** Rejects when `promise` does not settle within `ms`: for "the service closed it" waits. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: nothing after ${ms} ms`)), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The app with its TCP transport on a free port, a real sshd, one registered server and a connected ClientProxy. */
export interface TransportFixture {
  user: TestUser;
  sshd: SshdHost;
  t: TestApp;
  rpc: RpcCaller;
  /** The TCP transport's port. */
  port: number;
  /** A server on `sshd`. */
  id: string;
  close(): Promise<void>;
}

export async function startTransportFixture(sshdAddress: string, logger?: LoggerService): Promise<TransportFixture> {
  const user = loadTestUser();
  let db: TestDatabase | undefined;
  let sshd: SshdHost | undefined;
  let t: TestApp | undefined;
  let rpc: RpcCaller | undefined;
  const close = async () => {
    await rpc?.client.close();
    await t?.close();
    await sshd?.stop();
    await db?.drop();
  };
  try {
    db = await createTestDatabase('sqlite');
    sshd = await startSshd({ address: sshdAddress });
    const port = await freePort();
    t = await createTestApp({ DATABASE_URL: db.url, HOST: '127.0.0.1', INTERNAL_TCP_PORT: String(port) }, { logger });
    rpc = await rpcCaller(port);
    const id = (await t.api.post('/api/servers').send(sshServerBody(sshd, user)).expect(201)).body.id as string;
    return { user, sshd, t, rpc, port, id, close };
  } catch (error) {
    await close();
    throw error;
  }
}
