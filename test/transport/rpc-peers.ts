// Callers of the internal TCP transport: Nest's own ClientProxy, and a raw socket for frames no client would send.
import { ClientProxyFactory, type ClientProxy, Transport } from '@nestjs/microservices';
import { connect, type Socket } from 'node:net';
import { firstValueFrom } from 'rxjs';
import { TEST_TOKEN } from '../support/app.js';

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
