import type { Readable } from 'node:stream';
import type { ChannelExit, ChannelOutcome, SshChannel } from './ssh-connector.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';

export interface CommandOutput extends ChannelOutcome {
  stdout: string;
  stderr: string;
  truncated: boolean;
}

/** Keeps the first `limit` bytes of a stream and drains the rest, so the channel never stalls. */
class CappedBuffer {
  private readonly chunks: Buffer[] = [];
  private size = 0;
  truncated = false;

  constructor(stream: Readable, private readonly limit: number) {
    stream.on('data', (chunk: Buffer) => this.push(chunk));
  }

  private push(chunk: Buffer): void {
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

/**
 * Collects a command's output until its channel closes, or until EXIT_GRACE_MS after its exit status
 * (then the channel is discarded; its slot frees when the server confirms the close). When `abort`
 * fires first, the remote process group is killed and the promise rejects with EXEC_TIMEOUT at once:
 * the caller never waits on a peer that may not answer.
 */
export function collectOutput(channel: SshChannel, maxOutputBytes: number, abort: AbortSignal): Promise<CommandOutput> {
  const output = capture(channel, maxOutputBytes);
  return new Promise((resolve, reject) => {
    let settled = false;
    let grace: NodeJS.Timeout | undefined;
    const settle = (finish: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(grace);
      abort.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = () =>
      settle(() => {
        channel.kill('KILL');
        reject(timeoutError(abort));
      });
    if (abort.aborted) return onAbort();
    abort.addEventListener('abort', onAbort, { once: true });
    void channel.closed.then((outcome) => settle(() => resolve(output(outcome))));
    const afterGrace = (exit: ChannelExit) =>
      settle(() => {
        resolve(output({ ...exit, lost: false }));
        channel.discard();
      });
    void channel.exited.then((exit) => {
      if (!settled) grace = setTimeout(afterGrace, EXIT_GRACE_MS, exit);
    });
  });
}

/** Starts keeping the channel's output; the returned function builds the result from an outcome. */
function capture(channel: SshChannel, maxOutputBytes: number): (outcome: ChannelOutcome) => CommandOutput {
  const stdout = new CappedBuffer(channel.stdout, maxOutputBytes);
  const stderr = new CappedBuffer(channel.stderr, maxOutputBytes);
  return (outcome) => ({ ...outcome, stdout: stdout.toString(), stderr: stderr.toString(), truncated: stdout.truncated || stderr.truncated });
}

/** The error a command's deadline produces, wherever it was (queued, connecting, running). */
export function timeoutError(abort: AbortSignal): SshPoolError {
  const reason: unknown = abort.reason;
  return reason instanceof SshPoolError
    ? reason
    : new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, 'command timed out');
}
