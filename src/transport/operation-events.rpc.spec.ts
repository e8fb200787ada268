import type { MessageEvent } from '@nestjs/common';
import { once } from 'node:events';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { Observable, Subject, toArray, lastValueFrom } from 'rxjs';
import { connectionOf, toRpcEvents } from './operation-events.rpc.js';

/** Both ends of a loopback TCP connection. */
async function socketPair(): Promise<{ server: Server; service: Socket; caller: Socket }> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const accepted = once(server, 'connection');
  const caller = connect((server.address() as { port: number }).port, '127.0.0.1');
  const [service] = (await accepted) as [Socket];
  // A caller that leaves while the service writes resets the connection: an outcome here, not a test error.
  service.on('error', () => undefined);
  return { server, service, caller };
}

describe('toRpcEvents', () => {
  let pair: Awaited<ReturnType<typeof socketPair>>;
  beforeEach(async () => (pair = await socketPair()));
  afterEach(() => {
    pair.caller.destroy();
    pair.service.destroy();
    pair.server.close();
  });

  it('turns SSE events into { id, event, data } messages and leaves out keep-alive comments', async () => {
    const source = new Subject<MessageEvent>();
    const messages = lastValueFrom(toRpcEvents(source, connectionOf(pair.service)).pipe(toArray()));
    source.next({ id: '1', type: 'output', data: { stream: 'stdout', line: 'a' } });
    source.next({ comment: 'keep-alive' });
    source.next({ id: '2', type: 'done', data: { status: 'succeeded', exitCode: 0 } });
    source.complete();
    expect(await messages).toEqual([
      { id: 1, event: 'output', data: { stream: 'stdout', line: 'a' } },
      { id: 2, event: 'done', data: { status: 'succeeded', exitCode: 0 } },
    ]);
  });

  it('ends the stream and tears its reader down when the connection closes, or at once when it already has', async () => {
    let readers = 0;
    const reader = new Observable<MessageEvent>(() => {
      readers++;
      return () => readers--;
    });
    const ended = lastValueFrom(toRpcEvents(reader, connectionOf(pair.service)).pipe(toArray()));
    expect(readers).toBe(1);
    pair.caller.destroy();
    await expect(ended).resolves.toEqual([]);
    expect(readers).toBe(0);
    await expect(lastValueFrom(toRpcEvents(reader, connectionOf(pair.service)).pipe(toArray()))).resolves.toEqual([]);
    expect(readers).toBe(0);
  });
});

describe('connectionOf(socket).drained', () => {
  it('waits while the caller reads nothing and the buffer is full, and resolves once it reads or leaves', async () => {
    const { server, service, caller } = await socketPair();
    try {
      caller.pause();
      const connection = connectionOf(service);
      await expect(connection.drained()).resolves.toBeUndefined();
      while (service.write(Buffer.alloc(1024 * 1024)));
      let resolved = false;
      const waiting = connection.drained().then(() => (resolved = true));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(resolved).toBe(false);
      caller.resume();
      await waiting;
      while (service.write(Buffer.alloc(1024 * 1024)));
      caller.pause();
      const left = connection.drained();
      caller.destroy();
      await expect(left).resolves.toBeUndefined();
    } finally {
      caller.destroy();
      service.destroy();
      server.close();
    }
  });
});
