import type { Readable } from 'node:stream';
import type { ChannelOutcome, SshChannel } from './ssh-connector.js';
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
 * Collects a command's output until its channel closes. When `abort` fires first, the remote process
 * group is killed, the channel is closed, and the promise rejects with EXEC_TIMEOUT at once — the
 * caller never waits on a peer that may not answer.
 */
export function collectOutput(channel: SshChannel, maxOutputBytes: number, abort: AbortSignal): Promise<CommandOutput> {
  const stdout = new CappedBuffer(channel.stdout, maxOutputBytes);
  const stderr = new CappedBuffer(channel.stderr, maxOutputBytes);
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      channel.kill('KILL');
      reject(timeoutError(abort));
    };
    if (abort.aborted) return onAbort();
    abort.addEventListener('abort', onAbort, { once: true });
    void channel.closed.then((outcome) => {
      abort.removeEventListener('abort', onAbort);
      resolve({
        ...outcome,
        stdout: stdout.toString(),
        stderr: stderr.toString(),
        truncated: stdout.truncated || stderr.truncated,
      });
    });
  });
}

/** The error a command's deadline produces, wherever it was (queued, connecting, running). */
export function timeoutError(abort: AbortSignal): SshPoolError {
  const reason: unknown = abort.reason;
  return reason instanceof SshPoolError
    ? reason
    : new SshPoolError(SshPoolErrorCode.EXEC_TIMEOUT, 'command timed out');
}
