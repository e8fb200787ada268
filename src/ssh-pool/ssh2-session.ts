import type { Socket } from 'node:net';
import type { Client, ClientChannel } from 'ssh2';

/**
 * Every use of ssh2's private API, written for ssh2 ~1.17 (pinned in package.json). ssh2 has no public call that opens a session channel without a request: its
 * `client.exec` runs `openChannel` (lib/client.js: a callback added through `_chanMgr`, then
 * `_protocol.session(…)`) and, once the server confirmed, `reqExec` (`_protocol.exec(…)`, answered
 * through the channel's `_callbacks`). These helpers split the two steps so a channel can be opened
 * ahead of need. The connector feature-tests them on its first connection and falls back to
 * `client.exec` when they are missing or misbehave.
 */

/** ssh2's lib/Channel.js window and packet size, as its own `openChannel` announces them. */
const MAX_WINDOW = 2 * 1024 * 1024;
const PACKET_SIZE = 32 * 1024;

type OpenCallback = ((error: (Error & { reason?: unknown }) | undefined, stream: ClientChannel) => void) & { type?: string };

interface ClientInternals {
  _chanMgr?: { add?(callback: OpenCallback): number };
  _protocol?: { session?(id: number, window: number, packetSize: number): void; exec?(id: number, command: string, wantReply: boolean): void };
}

interface ChannelInternals {
  incoming: { state: string };
  outgoing: { id: number; state: string };
  _callbacks: ((failed: boolean | Error) => void)[];
  _client: { _sock?: Socket; _protocol: { exec(id: number, command: string, wantReply: boolean): void; signal(id: number, name: string): void } };
  subtype?: string;
  allowHalfOpen: boolean;
}

/** Whether this ssh2 client still has the private members the two steps need. */
export function hasSessionInternals(client: Client): boolean {
  const internals = client as unknown as ClientInternals;
  return (
    typeof internals._chanMgr?.add === 'function' &&
    typeof internals._protocol?.session === 'function' &&
    typeof internals._protocol?.exec === 'function'
  );
}

/**
 * Step one: asks the server for a session channel and sends nothing else. `done` gets the channel
 * once the server confirmed it, or the open failure (with a numeric `reason` when refused).
 */
export function openSession(client: Client, done: OpenCallback): void {
  const internals = client as unknown as Required<ClientInternals> & { _chanMgr: { add(callback: OpenCallback): number } };
  const callback: OpenCallback = (error, stream) => done(error, stream);
  callback.type = 'session';
  const id = internals._chanMgr.add(callback);
  if (id === -1) return done(new Error('no free channel id'), undefined as unknown as ClientChannel);
  internals._protocol.session!(id, MAX_WINDOW, PACKET_SIZE);
}

/** Open on both sides, as far as this side knows: an unread idle channel emits no `close` event. */
export function isSessionOpen(stream: ClientChannel): boolean {
  const channel = stream as unknown as ChannelInternals;
  return channel.incoming.state === 'open' && channel.outgoing.state === 'open';
}

/** What became of an exec request: only `not-started` proves that the command did not run. */
export type ExecReply = 'started' | 'not-started' | 'unknown';

/**
 * Step two: sends `exec` on an open session channel and reports the server's answer.
 * - `started`: CHANNEL_SUCCESS.
 * - `not-started`: the channel was closed before the request was written (its state, or a socket ssh2
 *   no longer writes to: it would drop the bytes), the server answered CHANNEL_FAILURE, or the server's
 *   CHANNEL_CLOSE came first (sshd answers a request before anything else on its channel).
 * - `unknown`: the request was written, then the connection closed before any answer (keepalive, a
 *   reset, our own close): the server may have run it.
 * ssh2 fails a channel's pending callbacks with `true` in all three failure cases. It emits the
 * client's `close` before it fails them for a dead connection, so `connectionClosed()` tells that case.
 */
export function execOnSession(stream: ClientChannel, command: string, connectionClosed: () => boolean, done: (reply: ExecReply) => void): void {
  const channel = stream as unknown as ChannelInternals;
  if (!isSessionOpen(stream) || !socketWritable(channel._client._sock)) return done('not-started');
  channel._callbacks.push((failed) => {
    if (failed === false) {
      channel.subtype = 'exec';
      channel.allowHalfOpen = true;
      return done('started');
    }
    done(connectionClosed() ? 'unknown' : 'not-started');
  });
  channel._client._protocol.exec(channel.outgoing.id, command, true);
}

/** ssh2's own test before it writes (lib/utils.js isWritable): a socket that saw the peer's FIN gets nothing. */
function socketWritable(socket: Socket | undefined): boolean {
  const state = (socket as unknown as { _readableState?: { ended?: boolean } } | undefined)?._readableState;
  return socket !== undefined && socket.writable && state?.ended === false;
}

/**
 * ssh2's `signal()` sends nothing once our side sent EOF, yet RFC 4254 allows channel requests after
 * it and sshd honours them: we close stdin at once, so send the request through ssh2's protocol
 * object (pool-failures.e2e-spec proves the kill against real sshd).
 */
export function sendSignal(stream: ClientChannel, name: string): void {
  const channel = stream as unknown as ChannelInternals;
  if (channel.outgoing.state === 'open' || channel.outgoing.state === 'eof') channel._client._protocol.signal(channel.outgoing.id, name);
}
