import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { firstValueFrom } from 'rxjs';
import { SshPoolService } from '../../src/ssh-pool/ssh-pool.service.js';
import { MAX_FRAME_CHARS } from '../../src/transport/internal-transport.js';
import { CapturingLogger, TEST_TOKEN, type TestApp } from '../support/app.js';
import { eventually } from '../support/eventually.js';
import { remoteScratchPath } from '../support/ssh-servers.js';
import type { SshdHost } from '../support/sshd.js';
import { frame, rawPeer, type RpcCaller, startTransportFixture, type TransportFixture, within } from './rpc-peers.js';

/** `<length>#<text>` for text that need not be JSON. */
const withLength = (text: string) => `${text.length}#${text}`;
/** A request frame as ClientProxy would send it. */
const request = (cmd: string, data: unknown) => frame({ id: randomUUID(), pattern: { cmd }, data });

describe('internal TCP transport: hostile and broken peers', () => {
  let fixture: TransportFixture;
  let sshd: SshdHost;
  let t: TestApp;
  let rpc: RpcCaller;
  let port: number;
  let id: string;
  const logger = new CapturingLogger();

  /** HTTP answers, and a well-behaved RPC client on its own connection too. */
  const stillServing = async (): Promise<void> => {
    const http = await t.api.get('/api/server-status/pool/stats');
    expect(http.status).toBe(200);
    expect(await rpc.call('pool.stats')).toEqual(http.body);
  };

  beforeAll(async () => {
    fixture = await startTransportFixture('127.0.0.13', logger);
    ({ sshd, t, rpc, port, id } = fixture);
  });
  afterAll(() => fixture?.close());

  it.each([
    ['invalid JSON (holding a token)', withLength(`{"data":{"token":"${TEST_TOKEN}"}`)],
    ['a length that is not a number', 'abc#{}'],
    ['a negative length', '-1#{}'],
  ])('closes the connection of a peer that sends %s, and keeps serving', async (_what, bytes) => {
    const peer = await rawPeer(port);
    peer.socket.write(bytes);
    await within(peer.closed, 5000, 'the service to close the connection');
    expect(peer.received()).toBe('');
    await stillServing();
    expect(logger.lines.filter((line) => line.includes(TEST_TOKEN))).toEqual([]);
  });

  it('logs a peer\'s malformed frames as short lines without a stack, at most 5 a minute', async () => {
    const before = logger.lines.length;
    for (let i = 0; i < 30; i++) {
      const peer = await rawPeer(port);
      peer.socket.write('1#x}'); // 4 bytes, no token
      await within(peer.closed, 5000, 'the service to close the connection');
    }
    await stillServing();
    const lines = logger.lines.slice(before);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(5);
    expect(lines.filter((line) => line.length > 200 || /\n\s+at /.test(line))).toEqual([]);
  });

  it('refuses a frame without an id (nobody to answer): its handler does not run, even with a valid token', async () => {
    const marker = remoteScratchPath('no-id');
    const peer = await rawPeer(port);
    peer.socket.write(frame({ pattern: { cmd: 'servers.exec' }, data: { token: TEST_TOKEN, id, command: `touch ${marker}` } }));
    // Later frames, on this connection and another, are answered: had the first run, it ran before them.
    peer.socket.write(request('servers.exec', { token: TEST_TOKEN, id, command: 'echo after' }));
    await eventually(() => `the reply, got: ${peer.received()}`, () => peer.received().includes('after'));
    expect(await rpc.call('servers.exec', { id, command: 'sleep 0.2; echo again' })).toMatchObject({ stdout: 'again\n' });
    expect(existsSync(marker)).toBe(false);
    peer.socket.destroy();
  });

  it('answers frames that are JSON but not a valid message without breaking anything', async () => {
    const peer = await rawPeer(port);
    for (const message of [1234, null, 'text', [], {}, { id: 'no-pattern', data: {} }]) peer.socket.write(frame(message));
    // Known pattern, data that is not an object: refused by the token check like any tokenless call.
    peer.socket.write(frame({ id: 'scalar-data', pattern: { cmd: 'pool.stats' }, data: 'x' }));
    // An event (no id) for a message pattern, with a bad token: nobody to answer, nothing to crash.
    peer.socket.write(frame({ pattern: { cmd: 'servers.exec' }, data: { token: 'wrong', id, command: 'true' } }));
    await eventually(() => `both replies, got: ${peer.received()}`, () => (peer.received().match(/"id":"(no-pattern|scalar-data)"/g) ?? []).length === 2);
    expect(peer.received()).toContain('"code":"UNKNOWN_PATTERN"');
    expect(peer.received()).toContain('"code":"UNAUTHORIZED"');
    peer.socket.destroy();
    await stillServing();
  });

  it('answers an unknown pattern with an RPC error, for requests and events alike', async () => {
    await expect(rpc.call('servers.drop-all', { correlationId: 'probe-1' })).rejects.toEqual({
      statusCode: 404,
      code: 'UNKNOWN_PATTERN',
      message: 'No handler for this message pattern',
      correlationId: 'probe-1',
    });
    await firstValueFrom(rpc.client.emit({ cmd: 'servers.drop-all' }, { token: TEST_TOKEN }), { defaultValue: undefined });
    await stillServing();
  });

  it('caps the frame size: a larger frame closes that connection, HTTP answers meanwhile', async () => {
    const sessions = sshd.sessionsStarted();
    const peer = await rawPeer(port);
    const huge = request('servers.exec', { token: TEST_TOKEN, id, command: `echo ${'x'.repeat(MAX_FRAME_CHARS)}` });
    peer.socket.write(huge.slice(0, huge.length - 10));
    await within(peer.closed, 5000, 'the service to close the over-long frame');
    expect(peer.received()).toBe('');
    expect(sshd.sessionsStarted()).toBe(sessions);

    // A frame that only announces a size far beyond the cap, then streams: cut off, never buffered whole.
    const streamer = await rawPeer(port);
    streamer.socket.write('999999999#');
    const chunk = 'y'.repeat(64 * 1024);
    const streaming = (async () => {
      for (let i = 0; i < 64 && !streamer.socket.destroyed; i += 1) {
        await new Promise<void>((done) => streamer.socket.write(chunk, () => done()));
      }
    })();
    await stillServing();
    await within(streamer.closed, 10_000, 'the service to close the streaming peer');
    await streaming;
    // Under the cap, the same call is validated as usual (the command is over its own limit).
    await expect(rpc.call('servers.exec', { id, command: 'x'.repeat(20 * 1024) })).rejects.toMatchObject({ statusCode: 400, code: 'VALIDATION_FAILED' });
  });

  it('finishes the command of a client that disconnected mid-call, and releases its channel', async () => {
    const sessions = sshd.sessionsStarted();
    const peer = await rawPeer(port);
    peer.socket.write(request('servers.exec', { token: TEST_TOKEN, id, command: 'sleep 1; echo late' }));
    await sshd.waitFor(() => sshd.sessionsStarted() === sessions + 1);
    peer.socket.destroy();
    await eventually('the command to end and its channel to be released', () => t.app.get(SshPoolService).getStats().in_use_connections === 0, 10_000);
    await stillServing();
    const res = await t.api.post(`/api/servers/${id}/exec`).send({ command: 'echo after' }).expect(200);
    expect(res.body).toMatchObject({ exitCode: 0, stdout: 'after\n' });
    expect(logger.lines.filter((line) => /Unhandled error|uncaught/i.test(line))).toEqual([]);
  });
});
