import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TestProxy {
  port: number;
  close(): Promise<void>;
}

/** Which way each chunk went through a proxy, in the order the proxy received them. */
export type Direction = 'up' | 'down';

export interface RecordingProxy extends TestProxy {
  /** Every chunk since the start: `up` from the client, `down` from the server. */
  readonly directions: readonly Direction[];
}

/**
 * Round trips in a transcript: client flights (runs of `up` chunks) that the server answered with a
 * flight of its own. A flight nothing answers (a last CHANNEL_CLOSE) costs the caller no wait.
 */
export function roundTrips(directions: readonly Direction[]): number {
  const flights = directions.filter((d, i) => i === 0 || d !== directions[i - 1]);
  return flights.filter((d, i) => d === 'up' && flights[i + 1] === 'down').length;
}

/**
 * A TCP proxy on loopback that delays every chunk by `oneWayMs` in each direction, preserving order:
 * a stand-in for a WAN link (2 × oneWayMs round trip) without touching the kernel's qdisc. It records
 * which way each chunk went, so that a test counts round trips instead of timing them.
 */
export async function startLatencyProxy(target: { host: string; port: number }, oneWayMs: number): Promise<RecordingProxy> {
  const directions: Direction[] = [];
  const proxy = await startProxy(target, (client, upstream) => {
    client.on('data', () => directions.push('up'));
    upstream.on('data', () => directions.push('down'));
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  return { ...proxy, directions };
}

/**
 * A TCP proxy on loopback that hands the client's bytes to the server in one write every `everyMs`
 * (the server's answers pass at once): a host too loaded to read its socket more often. sshd then
 * handles our CLOSE of a session and a following channel OPEN in one loop turn, before it freed the
 * session — the late free that makes a refusal say nothing about MaxSessions.
 */
export function startBatchingProxy(target: { host: string; port: number }, everyMs: number): Promise<TestProxy> {
  return startProxy(target, (client, upstream) => {
    let held: Buffer[] = [];
    const flush = setInterval(() => {
      if (held.length > 0 && upstream.writable) upstream.write(Buffer.concat(held));
      held = [];
    }, everyMs);
    client.on('data', (chunk: Buffer) => held.push(chunk));
    client.on('close', () => {
      clearInterval(flush);
      setImmediate(() => upstream.destroy());
    });
    pipeDelayed(upstream, client, 0);
  });
}

export interface BlackholeProxy extends TestProxy {
  /**
   * On the connections open now: the first client chunk of at least `bytes` (a request padded to be
   * told from pings and channel opens by its size: the bytes are encrypted) still reaches the server,
   * then every byte is dropped both ways while both sockets stay open, as on a partitioned link.
   * Connections made later pass everything.
   */
  blackholeAfter(bytes: number): void;
}

/** A TCP proxy on loopback that passes everything until told to swallow a live connection (blackholeAfter). */
export async function startBlackholeProxy(target: { host: string; port: number }): Promise<BlackholeProxy> {
  const arms = new Set<(bytes: number) => void>();
  const proxy = await startProxy(target, (client, upstream) => {
    let threshold = Number.POSITIVE_INFINITY;
    let holed = false;
    arms.add((bytes) => (threshold = bytes));
    client.on('data', (chunk: Buffer) => {
      if (holed) return;
      upstream.write(chunk);
      holed = chunk.length >= threshold;
    });
    upstream.on('data', (chunk: Buffer) => holed || client.write(chunk));
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  return {
    ...proxy,
    blackholeAfter: (bytes) => {
      arms.forEach((arm) => arm(bytes));
      arms.clear();
    },
  };
}

/** Accepts on 127.0.0.1, connects each client to `target`, and lets `link` move the bytes. */
async function startProxy(target: { host: string; port: number }, link: (client: Socket, upstream: Socket) => void): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    link(client, upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy(); // a batching link's interval stops with its client
        server.close(() => resolve());
      }),
  };
}

function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}
