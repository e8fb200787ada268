import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * A TCP proxy on loopback that delays every chunk by `oneWayMs` in each direction, preserving order:
 * a stand-in for a WAN link (2 × oneWayMs round trip) without touching the kernel's qdisc.
 */
export async function startLatencyProxy(target: { host: string; port: number }, oneWayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    pipeDelayed(client, upstream, oneWayMs);
    pipeDelayed(upstream, client, oneWayMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function pipeDelayed(from: Socket, to: Socket, delayMs: number): void {
  from.on('data', (chunk) => setTimeout(() => to.writable && to.write(chunk), delayMs));
  from.on('end', () => setTimeout(() => to.end(), delayMs));
  from.on('close', () => setTimeout(() => to.destroy(), delayMs));
}

/**
 * A TCP proxy on loopback that hands the client's bytes to the server in one write every `everyMs`
 * (the server's answers pass at once): a host too loaded to read its socket more often. sshd then
 * handles our CLOSE of a session and a following channel OPEN in one loop turn, before it freed the
 * session — the late free that makes a refusal say nothing about MaxSessions.
 */
export async function startBatchingProxy(target: { host: string; port: number }, everyMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const server: Server = createServer((client) => {
    const upstream = createConnection(target);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined);
    }
    let held: Buffer[] = [];
    const flush = setInterval(() => {
      if (held.length > 0 && upstream.writable) upstream.write(Buffer.concat(held));
      held = [];
    }, everyMs);
    timers.add(flush);
    client.on('data', (chunk: Buffer) => held.push(chunk));
    client.on('close', () => {
      clearInterval(flush);
      upstream.destroy();
    });
    pipeDelayed(upstream, client, 0);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        timers.forEach(clearInterval);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
