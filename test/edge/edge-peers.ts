// Clients that misbehave at the edge (send nothing, pipeline without reading) and what the service
// process holds meanwhile, counted from its side: open descriptors, SSH connections it attempts.
import { readdirSync } from 'node:fs';
import { type IncomingHttpHeaders, request } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { eventually } from '../support/eventually.js';

/** Descriptors the process holds open now. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

export interface Peer {
  socket: Socket;
  /** Bytes received so far. */
  received(): number;
  /** Resolves when the connection is closed (by either side). */
  closed: Promise<void>;
}

/** A raw TCP client; `read: false` never reads what the service sends. */
export function peer(port: number, { read = true } = {}): Promise<Peer> {
  return new Promise((resolve, reject) => {
    let received = 0;
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined); // a reset by the service is an outcome here
    if (read) socket.on('data', (chunk: Buffer) => (received += chunk.length));
    else socket.pause();
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => received, closed }));
    socket.once('error', reject);
  });
}

/** `count` idle connections, each resolved once connected (or closed at once: refused over a cap). */
export async function idlePeers(port: number, count: number): Promise<Peer[]> {
  return Promise.all(Array.from({ length: count }, () => peer(port)));
}

export interface Fetched {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
}

/** A GET on a connection of its own (no keep-alive pool that could reuse one the service is closing). */
export function getOnce(url: string, headers: Record<string, string> = {}): Promise<Fetched> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, headers }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes }));
    });
    req.on('error', reject);
    req.end();
  });
}

export function pipelined(path: string, count: number, headers = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${headers}\r\n`.repeat(count);
}

/**
 * "Hosts" that accept TCP connections and never say a word of SSH, one port each (so that no host's
 * connect backoff links them): each exec aimed at one holds a connection open until the test releases
 * it (or SSH_READY_TIMEOUT_MS), so open connections = execs running, counted from the hosts' side.
 */
export class SilentSshHosts {
  private readonly open: Socket[] = [];
  maxOpen = 0;
  accepted = 0;

  private constructor(private readonly servers: Server[]) {
    for (const server of servers) server.on('connection', (socket) => this.track(socket));
  }

  static async start(count: number): Promise<SilentSshHosts> {
    const servers = await Promise.all(
      Array.from({ length: count }, async () => {
        const server = createServer();
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        return server;
      }),
    );
    return new SilentSshHosts(servers);
  }

  get ports(): number[] {
    return this.servers.map((server) => (server.address() as { port: number }).port);
  }

  get openNow(): number {
    return this.open.length;
  }

  /** Hangs up the oldest open connection: that exec fails at once. */
  releaseOne(): void {
    this.open.shift()?.destroy();
  }

  async stop(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    await Promise.all(this.servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }

  private track(socket: Socket): void {
    this.accepted++;
    this.open.push(socket);
    this.maxOpen = Math.max(this.maxOpen, this.open.length);
    socket.on('error', () => undefined);
    socket.once('close', () => {
      const at = this.open.indexOf(socket);
      if (at >= 0) this.open.splice(at, 1);
    });
  }
}

/** POST /api/servers bodies, one server per silent host. */
export function silentServers(hosts: SilentSshHosts): Record<string, unknown>[] {
  return hosts.ports.map((port) => ({
    name: `silent-${port}`,
    host: '127.0.0.1',
    sshPort: port,
    sshUser: 'cs2',
    authType: 'PASSWORD',
    sshPassword: 'never used',
    gameDirectory: '/tmp',
    gamePort: 27015,
  }));
}

/**
 * Releases the hosts' connections one at a time, each once `limit` execs are running (or all that
 * remain), until `total` have been released: the most running at once is then `hosts.maxOpen`.
 */
export async function releaseInTurn(hosts: SilentSshHosts, total: number, limit: number): Promise<void> {
  for (let released = 0; released < total; released++) {
    const expected = Math.min(limit, total - released);
    await eventually(() => `${expected} execs running; ${hosts.openNow} (${released} released)`, () => hosts.openNow >= expected, 15_000);
    hosts.releaseOne();
  }
}
