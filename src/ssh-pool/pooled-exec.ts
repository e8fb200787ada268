import type { ConnectionGroup, Slot } from './connection-group.js';
import { timeoutError } from './exec-runner.js';
import type { PooledConnection } from './pooled-connection.js';
import { ChannelRefusedError, ConnectionLostError, OutcomeUnknownError, SpareLostError, type ChannelOutcome, type SshChannel } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';

/** Opens refused, or lost before the exec request was sent, before the command fails with SSH_CHANNEL_FAILED. */
const MAX_OPEN_ATTEMPTS = 12;

export interface PooledRequest<T extends ChannelOutcome> {
  serverId?: string;
  command: string;
  abort: AbortSignal;
  /** Reads the started command to its end (collects or streams its output). */
  consume(channel: SshChannel, abort: AbortSignal): Promise<T>;
  now(): number;
  /** Counts a channel-open refusal (statistics). */
  onRefusal(): void;
  /** Counts a command the server accepted on a spare channel (statistics). */
  onSpare(): void;
}

/**
 * Runs one command on a channel of `group`, at most once. Sent again only when it provably did not
 * start: a refused open (sshd's MaxSessions, or a session it has not freed yet), an open on a
 * connection that died before the exec request was written, or an exec request the server refused
 * or whose channel it closed first. A request written to a connection that then died unanswered is
 * SSH_OUTCOME_UNKNOWN, never retried. A refusal never closes the shared connection. Slot accounting
 * follows the real channel even after a timeout.
 */
export async function execOnGroup<T extends ChannelOutcome>(
  group: ConnectionGroup,
  request: PooledRequest<T>,
): Promise<{ output: T; hit: boolean }> {
  let firstHit: boolean | undefined;
  let spareLost = false;
  for (let attempt = 1; ; attempt++) {
    // A spare that turned out dead is retried once, on a fresh channel.
    const slot = await group.acquire(request.serverId, request.abort, attempt > 1, !spareLost);
    firstHit ??= slot.hit;
    const { connection } = slot;
    try {
      const channel = await raceAbort(openTracked(group, slot, request), request.abort, killChannel);
      return { output: checkedOutcome(await request.consume(channel, request.abort), connection.key.hostId), hit: firstHit };
    } catch (error) {
      if (error instanceof OutcomeUnknownError) throw execFailure(error, connection.key.hostId);
      if (error instanceof SpareLostError) {
        if (spareLost) throw new SshPoolError(SshPoolErrorCode.CHANNEL_FAILED, `${connection.key.hostId} closed the channel before the command started`);
        spareLost = true;
        continue;
      }
      if (!(error instanceof ChannelRefusedError || error instanceof ConnectionLostError)) throw error;
      if (attempt >= MAX_OPEN_ATTEMPTS) {
        throw new SshPoolError(SshPoolErrorCode.CHANNEL_FAILED, `${connection.key.hostId} refused ${attempt} channel opens`);
      }
      // A refusal that taught nothing is sshd still freeing a closed session: give it a moment.
      if (error instanceof ChannelRefusedError) await raceAbort(pause(Math.min(attempt * 4, 40)), request.abort, () => undefined);
    }
  }
}

/**
 * Starts the channel and keeps the group's slot accounting true to the server, whoever waits. Where
 * the connection can open bare sessions, a fresh channel is opened that way too (the same two round
 * trips as ssh2's exec): the session then counts from the server's confirmation, as a spare's does,
 * so a refusal that arrives meanwhile is learned from the sessions the server really holds.
 */
function openTracked(group: ConnectionGroup, slot: Slot, request: PooledRequest<ChannelOutcome>): Promise<SshChannel> {
  const { connection, spare } = slot;
  const openSession = connection.connection.openSpare;
  if (!spare && !openSession) return openExec(group, slot, request);
  const openSentAt = request.now();
  const session = spare
    ? Promise.resolve(spare)
    : openSession!().then((opened) => {
        group.sessionOpened(slot);
        return opened;
      }, openFailed(group, slot, request, openSentAt));
  return session.then((open) =>
    open.exec(request.command).then(
      (channel) => {
        group.opened(slot);
        if (spare) request.onSpare();
        return watchClose(group, connection, channel);
      },
      (error: unknown) => {
        // The session was counted open: its slot frees when the server confirms the close.
        open.discard();
        void open.closed.then(() => group.channelClosed(connection, false));
        // Anything but a proven refusal may have reached the server: never sent again.
        throw error instanceof SpareLostError ? error : new OutcomeUnknownError('exec request failed');
      },
    ),
  );
}

/** ssh2's own two-step exec (spares unavailable): the session counts once the command was accepted. */
function openExec(group: ConnectionGroup, slot: Slot, request: PooledRequest<ChannelOutcome>): Promise<SshChannel> {
  const openSentAt = request.now();
  return slot.connection.connection.exec(request.command).then((channel) => {
    group.opened(slot);
    return watchClose(group, slot.connection, channel);
  }, openFailed(group, slot, request, openSentAt));
}

/** An open the server refused, or one on a connection that died: the slot is free again, nothing ran. */
function openFailed(group: ConnectionGroup, slot: Slot, request: PooledRequest<ChannelOutcome>, openSentAt: number): (error: unknown) => never {
  return (error) => {
    if (error instanceof ChannelRefusedError) {
      request.onRefusal();
      group.refused(slot, openSentAt);
    }
    group.release(slot.connection);
    if (error instanceof ConnectionLostError) group.evict(slot.connection, 'dead');
    throw error;
  };
}

/**
 * Frees the slot when the server confirms the channel's close — not when we close it. A channel we
 * closed (killed on timeout, or discarded after its exit) that the server does not confirm within
 * the group's bound holds its slot for good, so its connection retires.
 */
function watchClose(group: ConnectionGroup, connection: PooledConnection, channel: SshChannel): SshChannel {
  let closed = false;
  let stuck = false;
  let bound: NodeJS.Timeout | undefined;
  void channel.closed.then(() => {
    closed = true;
    clearTimeout(bound);
    group.channelClosed(connection, stuck);
  });
  const startBound = () => {
    if (closed || bound) return;
    bound = setTimeout(() => {
      stuck = true;
      group.channelStuck(connection);
    }, group.closeBoundMs);
    bound.unref();
  };
  return {
    stdout: channel.stdout,
    stderr: channel.stderr,
    exited: channel.exited,
    closed: channel.closed,
    kill: (signal) => {
      channel.kill(signal);
      startBound();
    },
    signal: (signal) => channel.signal(signal),
    discard: () => {
      channel.discard();
      startBound();
    },
  };
}

/** Rejects when `abort` fires first; what arrives after that is handed to `discard` (killed, closed). */
export function raceAbort<T>(pending: Promise<T>, abort: AbortSignal, discard: (late: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      reject(timeoutError(abort));
      pending.then(discard, () => undefined);
    };
    if (abort.aborted) return onAbort();
    abort.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        abort.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        abort.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/** SSH_OUTCOME_UNKNOWN: the command may have run; the caller must not assume either way. */
function outcomeUnknown(hostId: string, when: string): SshPoolError {
  return new SshPoolError(
    SshPoolErrorCode.OUTCOME_UNKNOWN,
    `the connection to ${hostId} was lost ${when}: the command may have run on the host; it was not retried`,
  );
}

/**
 * A channel that closed without an exit status (its connection died) ran a command whose end nobody
 * saw; an exec request lost unanswered may have run. Both are SSH_OUTCOME_UNKNOWN (pooled or not).
 */
export function checkedOutcome<T extends ChannelOutcome>(output: T, hostId: string): T {
  if (output.lost) throw outcomeUnknown(hostId, 'while the command ran');
  return output;
}

/** The pool error for what a bare connection's `exec` threw (the unpooled path: nothing is retried there). */
export function execFailure(error: unknown, hostId: string): unknown {
  if (error instanceof OutcomeUnknownError) return outcomeUnknown(hostId, 'before the server answered the command');
  if (error instanceof ChannelRefusedError || error instanceof ConnectionLostError || error instanceof SpareLostError) {
    return new SshPoolError(SshPoolErrorCode.CHANNEL_FAILED, `${hostId} could not start the command: ${error.message}`);
  }
  return error;
}

export const killChannel = (channel: SshChannel): void => channel.kill('KILL');

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
