import type { ClientChannel } from 'ssh2';
import type { ChannelExit, ChannelOutcome, SpareChannel, SshChannel } from './ssh-connector.js';
import { execOnSession, isSessionOpen, sendSignal } from './ssh2-session.js';

/** The server refused to open a channel: a capacity signal, not a dead connection. */
export class ChannelRefusedError extends Error {}
/** The connection was gone before the channel opened: nothing ran, safe to retry elsewhere. */
export class ConnectionLostError extends Error {}
/**
 * The exec request provably did not start a command: the channel was closed before the request was
 * written, the server refused the request, or the server closed the channel before answering it.
 * Safe to send again.
 */
export class SpareLostError extends Error {}
/** The exec request was written and the connection was lost before any answer: the command may have run. Never sent again. */
export class OutcomeUnknownError extends Error {}

/** The feature test's command: its exit code must come back through a spare channel. */
export const SPARE_TEST_EXIT = 7;

/**
 * Wraps an exec channel. Listeners attach synchronously in the exec callback, before ssh2 parses
 * the next packet, so no exit status is missed; output stays buffered until someone reads it.
 */
export function wrapChannel(stream: ClientChannel, eofSent = false): SshChannel {
  let exit: ChannelExit | undefined;
  const exited = new Promise<ChannelExit>((resolve) => {
    stream.on('exit', (code: number | null, signalName?: string) => {
      exit = { exitCode: typeof code === 'number' ? code : null, signal: signalName ?? null };
      resolve(exit);
    });
  });
  const closed = new Promise<ChannelOutcome>((resolve) => {
    stream.on('close', () => resolve({ exitCode: exit?.exitCode ?? null, signal: exit?.signal ?? null, lost: !exit }));
  });
  // Commands get no input: EOF now, so `cat` or a prompt ends instead of waiting for the timeout.
  if (!eofSent) stream.end();
  const discard = () => drainAndClose(stream);
  return {
    stdout: stream,
    stderr: stream.stderr,
    exited,
    closed,
    kill(name) {
      // sshd delivers the signal with killpg() to the session's process group.
      sendSignal(stream, name);
      discard();
    },
    signal: (name) => sendSignal(stream, name),
    discard,
  };
}

/** ssh2 reports a channel's close only after its output ended, so an unread channel must be drained to close. */
function drainAndClose(stream: ClientChannel): void {
  stream.resume();
  stream.stderr.resume();
  stream.close();
}

/**
 * An open session channel with no request yet: a command on it costs one round trip.
 * `connectionClosed` says whether its connection is gone (ssh2's client emitted `close`).
 */
export function wrapSpare(stream: ClientChannel, connectionClosed: () => boolean): SpareChannel {
  const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
  let used = false;
  return {
    get alive() {
      return !used && isSessionOpen(stream);
    },
    closed,
    exec(command) {
      used = true;
      return new Promise((resolve, reject) => {
        execOnSession(stream, command, connectionClosed, (reply) => {
          if (reply === 'started') resolve(wrapChannel(stream, true));
          else if (reply === 'not-started') reject(new SpareLostError('the channel closed or was refused before its command started'));
          else reject(new OutcomeUnknownError('the connection was lost after the command was sent, before the server answered'));
        });
        // EOF right behind the request (RFC 4254 allows it; sshd has started the command by then): stdin closes
        // without waiting for the reply. A refused request leaves the channel to be discarded anyway.
        stream.end();
      });
    },
    discard() {
      used = true;
      drainAndClose(stream);
    },
  };
}

/**
 * Opens an idle channel, runs the test command on it and expects exit code 7 back. Undefined when
 * the server refused the channel or the connection died: that says nothing about ssh2.
 */
export async function spareFeatureTest(
  openSession: () => Promise<SpareChannel>,
  command: string,
  timeoutMs: number,
  released: () => void,
): Promise<boolean | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
  const test = async () => {
    const spare = await openSession();
    const channel = await spare.exec(command);
    channel.stdout.resume();
    channel.stderr.resume();
    const { exitCode } = await channel.closed;
    released();
    return exitCode === SPARE_TEST_EXIT;
  };
  try {
    return await Promise.race([test(), deadline]);
  } catch (error) {
    const inconclusive = error instanceof ChannelRefusedError || error instanceof ConnectionLostError || error instanceof OutcomeUnknownError;
    return inconclusive ? undefined : false;
  } finally {
    clearTimeout(timer);
  }
}
