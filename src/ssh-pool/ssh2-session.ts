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
  _client: { _protocol: { exec(id: number, command: string, wantReply: boolean): void; signal(id: number, name: string): void } };
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

/**
 * Step two: sends `exec` on an open session channel; `done(false)` once the server accepted it,
 * `done(true)` when it refused or the channel closed first (the command did not run).
 */
export function execOnSession(stream: ClientChannel, command: string, done: (failed: boolean) => void): void {
  const channel = stream as unknown as ChannelInternals;
  if (!isSessionOpen(stream)) return done(true);
  channel._callbacks.push((failed) => {
    if (!failed) {
      channel.subtype = 'exec';
      channel.allowHalfOpen = true;
    }
    done(failed !== false);
  });
  channel._client._protocol.exec(channel.outgoing.id, command, true);
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
