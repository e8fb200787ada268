import type { ChannelExit, ChannelOutcome, SshChannel } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';

export interface CommandOutput extends ChannelOutcome {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Receives a command's output as it arrives. */
export type OutputSink = (stream: 'stdout' | 'stderr', chunk: Buffer) => void;

/** Keeps the first `limit` bytes of a stream and drops the rest (the channel is still drained). */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(private readonly limit: number) {}

  push(chunk: Buffer): void {
    const room = this.limit - this.size;
    if (chunk.length > room) this.truncated = true;
    if (room <= 0) return;
    const kept = chunk.length > room ? chunk.subarray(0, room) : chunk;
    this.chunks.push(kept);
    this.size += kept.length;
  }

  toString(): string {
    return Buffer.concat(this.chunks, this.size).toString('utf8');
  }
}

/**
 * How long output may still arrive after the exit status. Longer means a background child holds the
 * shell's output open (`daemon & exit 0`): the command has ended, the child is left running.
 */
export const EXIT_GRACE_MS = 250;

export interface RunChannelOptions {
  abort: AbortSignal;
  sink: OutputSink;
  /**
   * On abort, SIGTERM the remote process group and give it this long before SIGKILL; the promise then
   * rejects once the channel closed. Unset, and when the pool shuts down: SIGKILL and reject at once
   * (a caller with a deadline never waits on a peer that may not answer).
   */
  termGraceMs?: number;
}

/**
 * Streams a command's output to `sink` until its channel closes, or until EXIT_GRACE_MS after its
 * exit status (then the channel is discarded; its slot frees when the server confirms the close).
 * When `abort` fires first the remote process group is stopped and the promise rejects with the
 * abort's reason (EXEC_TIMEOUT unless the caller gave one).
 */
export function runChannel(channel: SshChannel, options: RunChannelOptions): Promise<ChannelOutcome> {
  const { abort, sink, termGraceMs } = options;
  channel.stdout.on('data', (chunk: Buffer) => sink('stdout', chunk));
  channel.stderr.on('data', (chunk: Buffer) => sink('stderr', chunk));
  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      abort.removeEventListener('abort', onAbort);
      finish();
    };
    const fail = () => settle(() => reject(timeoutError(abort)));
    const onAbort = () => {
      // Shutdown has given it the drain bound already and closes the connection next: no second grace.
      if (termGraceMs === undefined || isShutdown(abort.reason)) {
        channel.kill('KILL');
        return fail();
      }
      channel.signal('TERM');
      clearTimeout(timer);
      timer = setTimeout(() => {
        channel.kill('KILL');
        fail();
      }, termGraceMs);
      void channel.closed.then(fail);
    };
    if (abort.aborted) return onAbort();
    abort.addEventListener('abort', onAbort, { once: true });
    void channel.closed.then((outcome) => {
      if (!abort.aborted) settle(() => resolve(outcome));
    });
    const afterGrace = (exit: ChannelExit) =>
      settle(() => {
        resolve({ ...exit, lost: false });
        channel.discard();
      });
    void channel.exited.then((exit) => {
      if (!settled && !abort.aborted) timer = setTimeout(afterGrace, EXIT_GRACE_MS, exit);
    });
  });
}

const isShutdown = (reason: unknown) => reason instanceof SshPoolError && reason.code === SshPoolErrorCode.SHUTTING_DOWN;

/** Collects a command's output (each stream capped at `maxOutputBytes`) as runChannel runs it. */
export async function collectOutput(channel: SshChannel, maxOutputBytes: number, abort: AbortSignal): Promise<CommandOutput> {
  const stdout = new CappedBuffer(maxOutputBytes);
  const stderr = new CappedBuffer(maxOutputBytes);
  const sink: OutputSink = (stream, chunk) => (stream === 'stdout' ? stdout : stderr).push(chunk);
  const outcome = await runChannel(channel, { abort, sink });
  return { ...outcome, stdout: stdout.toString(), stderr: stderr.toString(), truncated: stdout.truncated || stderr.truncated };
}

/**
 * The error a command's stop produces, wherever it was (queued, connecting, running): the abort's
 * reason when it is an error (a cancel, the pool shutting down), EXEC_TIMEOUT otherwise.
 */
export function timeoutError(abort: AbortSignal): Error {
  const reason: unknown = abort.reason;
  return reason instanceof Error ? reason : new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, 'command timed out');
}
