import type { ClientChannel } from 'ssh2';
import { execOnSession, type ExecReply } from './ssh2-session.js';

/**
 * The members of an ssh2 channel that execOnSession reads, as ssh2 1.17 holds them: ssh2 answers a
 * request through `_callbacks` (false on CHANNEL_SUCCESS; true on CHANNEL_FAILURE, on the server's
 * CHANNEL_CLOSE, and, after the client emitted `close`, on a dead connection).
 */
function fakeChannel(state: { channel?: string; socketEnded?: boolean } = {}) {
  const written: string[] = [];
  const channel = {
    incoming: { state: state.channel ?? 'open' },
    outgoing: { id: 0, state: state.channel ?? 'open' },
    _callbacks: [] as ((failed: boolean) => void)[],
    allowHalfOpen: false,
    _client: {
      _sock: { writable: true, _readableState: { ended: state.socketEnded ?? false } },
      _protocol: { exec: (_id: number, command: string) => written.push(command), signal: () => undefined },
    },
  };
  return { stream: channel as unknown as ClientChannel, channel, written };
}

function send(stream: ClientChannel, connectionClosed: boolean): ExecReply[] {
  const replies: ExecReply[] = [];
  execOnSession(stream, 'echo once', () => connectionClosed, (reply) => replies.push(reply));
  return replies;
}

describe('execOnSession: only a provable non-start is reported as not started', () => {
  it('sends nothing on a channel already closed, or on a socket that saw the peer end', () => {
    for (const state of [{ channel: 'closed' }, { socketEnded: true }]) {
      const { stream, written } = fakeChannel(state);
      expect(send(stream, false)).toEqual(['not-started']);
      expect(written).toEqual([]);
    }
  });

  it('reports the server accepting, refusing or closing first, on a live connection', () => {
    const accepted = fakeChannel();
    const replies = send(accepted.stream, false);
    accepted.channel._callbacks.shift()!(false);
    expect({ replies, written: accepted.written }).toEqual({ replies: ['started'], written: ['echo once'] });

    const refused = fakeChannel();
    const refusedReplies = send(refused.stream, false);
    refused.channel._callbacks.shift()!(true);
    expect(refusedReplies).toEqual(['not-started']);
  });

  it('reports a request written to a connection that then closed unanswered as unknown', () => {
    const { stream, channel, written } = fakeChannel();
    const replies = send(stream, true);
    channel._callbacks.shift()!(true);
    expect({ replies, written }).toEqual({ replies: ['unknown'], written: ['echo once'] });
  });
});
