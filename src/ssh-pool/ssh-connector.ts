import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { HostKeyVerdict } from './host-key-verifier.js';
import { ChannelRefusedError, ConnectionLostError, OutcomeUnknownError, SpareLostError, spareFeatureTest, SPARE_TEST_EXIT, wrapChannel, wrapSpare } from './ssh-channel.js';
import { hasSessionInternals, openSession } from './ssh2-session.js';
import { SshPoolError, SshPoolErrorCode } from './ssh-pool.errors.js';
import type { SshAuth } from './ssh-pool.types.js';

/** Credentials as the connector takes them: a key already decoded (KeyDecoder), so never a passphrase. */
export type ConnectAuth = Extract<SshAuth, { type: 'PASSWORD' }> | { type: 'KEY_FILE'; privateKey: string };

export interface ConnectParams {
  /** As configured: named in errors. */
  host: string;
  /** The address to connect to, already checked against the target policy; `host` when absent. */
  address?: string;
  port: number;
  username: string;
  auth: ConnectAuth;
  readyTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
  verifyHostKey(keyBlob: Buffer): Promise<HostKeyVerdict>;
  /** TCP_NODELAY; on by default (ssh2 leaves Nagle on, which costs a delayed ACK per exec). */
  noDelay?: boolean;
  /** Offer `openSpare` on the connection when ssh2's internals pass the feature test. */
  spareChannels?: boolean;
}

export interface ChannelExit {
  exitCode: number | null;
  signal: string | null;
}

export interface ChannelOutcome extends ChannelExit {
  /** The channel closed before the server reported how the command ended (connection died, or we killed it). */
  lost: boolean;
}

/** One exec channel: the running command's output and how it ended. Its stdin is closed at once. */
export interface SshChannel {
  readonly stdout: Readable;
  readonly stderr: Readable;
  /** Settles when the server reports the command's exit status or signal (output may still follow). */
  readonly exited: Promise<ChannelExit>;
  /** Settles when the channel is closed on both sides (the server's session slot is then freeing). */
  readonly closed: Promise<ChannelOutcome>;
  /** Signal the remote process group, then discard the channel. */
  kill(signal: 'KILL' | 'TERM'): void;
  /** Signal the remote process group and keep reading: the channel closes when the process ends. */
  signal(signal: 'TERM' | 'INT'): void;
  /**
   * Drain what is left of the output and close the channel without a signal. Draining matters:
   * ssh2 reports a channel's close only after its output ended, so an unread channel never closes.
   */
  discard(): void;
}

/**
 * A session channel opened ahead of need, with no request sent yet: it counts against the server's
 * MaxSessions like any session. A command on it costs one round trip instead of two.
 */
export interface SpareChannel {
  /** False once it was used or discarded, or either side closed it (read from state: an idle channel emits no close). */
  readonly alive: boolean;
  /** Settles when the channel is closed on both sides (only observed once it was used or discarded). */
  readonly closed: Promise<void>;
  /**
   * Runs `command` on it, stdin closed.
   * @throws SpareLostError when the command provably did not start (closed first, or refused);
   *   OutcomeUnknownError when the request was sent and the connection died unanswered
   */
  exec(command: string): Promise<SshChannel>;
  /** Closes it unused. */
  discard(): void;
}

/** An authenticated connection that channels are multiplexed over. */
export interface SshConnection {
  /**
   * @throws ChannelRefusedError when the server refuses the session (MaxSessions), ConnectionLostError
   *   when the connection is gone before the exec request was sent, SpareLostError and
   *   OutcomeUnknownError as a spare's `exec` does
   */
  exec(command: string): Promise<SshChannel>;
  /**
   * Present only when spare channels work on this connection (asked for, and the feature test passed).
   * @throws ChannelRefusedError, ConnectionLostError as `exec` does
   */
  readonly openSpare?: () => Promise<SpareChannel>;
  /** Date.now() when a channel the connector used itself (the feature test) closed: sshd frees its session a moment later. */
  readonly releasedAt?: number;
  /** Called once, when the connection is gone for any reason (close, error, keepalive timeout). */
  onClose(listener: (reason?: Error) => void): void;
  close(): void;
}

export { ChannelRefusedError, ConnectionLostError, OutcomeUnknownError, SpareLostError } from './ssh-channel.js';

/**
 * sshd frees a closed session a loop turn late (pooled-connection's RELEASE_LAG_MS): the test's
 * connection is handed over only after that, so the pool's first burst can learn MaxSessions exactly.
 */
const SPARE_TEST_SETTLE_MS = 100;

/** Opens authenticated ssh2 connections. Raw I/O only: pooling decisions live in the pool. */
@Injectable()
export class SshConnector {
  connect(params: ConnectParams): Promise<SshConnection> {
    return new Promise((resolve, reject) => {
      const client = new Client();
      let rejectedKey: Extract<HostKeyVerdict, { accepted: false }> | undefined;
      let settled = false;
      const fail = (error: Error & { level?: string }) => {
        if (settled) return;
        settled = true;
        client.end();
        reject(toConnectError(error, params, rejectedKey));
      };
      const onHandshakeClose = () => fail(Object.assign(new Error('closed during handshake'), { level: 'client-socket' }));
      client.on('error', fail);
      client.once('close', onHandshakeClose);
      client.once('ready', () => {
        settled = true;
        client.removeListener('close', onHandshakeClose);
        resolve(params.spareChannels ? this.withSpares(client, params.readyTimeoutMs) : this.withoutSpares(client));
      });
      const config: ConnectConfig = {
        host: params.address ?? params.host,
        port: params.port,
        username: params.username,
        readyTimeout: params.readyTimeoutMs,
        keepaliveInterval: ssh2KeepaliveInterval(params.keepaliveIntervalMs, params.keepaliveCountMax),
        keepaliveCountMax: params.keepaliveCountMax,
        hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
          params.verifyHostKey(key).then(
            (verdict) => {
              if (!verdict.accepted) rejectedKey = verdict;
              verify(verdict.accepted);
            },
            () => verify(false),
          );
        },
        ...authConfig(params.auth),
      };
      client.connect(config);
      client.setNoDelay(params.noDelay !== false);
    });
  }

  /** Settled true or false by the first conclusive feature test; a refused or lost test is retried on the next connection. */
  private spareCheck?: Promise<boolean>;

  /** Whether ssh2 still has the private members spares use (protected: a test forces the fallback with it). */
  protected hasSessionInternals(client: Client): boolean {
    return hasSessionInternals(client);
  }

  /** The feature test's command (protected: a test makes it fail). */
  protected spareTestCommand = `exit ${SPARE_TEST_EXIT}`;

  private withoutSpares(client: Client): SshConnection {
    const connection = new Ssh2Connection(client);
    connection.twoStep = this.hasSessionInternals(client);
    return connection;
  }

  private async withSpares(client: Client, timeoutMs: number): Promise<SshConnection> {
    const connection = new Ssh2Connection(client);
    if (!this.hasSessionInternals(client)) return connection;
    const ranTest = this.spareCheck === undefined;
    this.spareCheck ??= spareFeatureTest(() => connection.openSession(), this.spareTestCommand, timeoutMs, () => (connection.releasedAt = Date.now())).then((works) => {
      if (works === undefined) this.spareCheck = undefined;
      return works ?? false;
    });
    const works = await this.spareCheck;
    // Only the connection that ran the test waits for sshd to free its session; others go at once.
    if (ranTest && connection.releasedAt !== undefined) await new Promise((resolve) => setTimeout(resolve, SPARE_TEST_SETTLE_MS));
    if (works) connection.openSpare = () => connection.openSession();
    connection.twoStep = works;
    return connection;
  }
}

/** No passphrase ever reaches ssh2: it would run bcrypt-pbkdf on the event loop inside connect(). */
function authConfig(auth: ConnectAuth): Partial<ConnectConfig> {
  return auth.type === 'PASSWORD' ? { password: auth.password, tryKeyboard: false } : { privateKey: auth.privateKey };
}

function toConnectError(
  error: Error & { level?: string },
  params: ConnectParams,
  rejectedKey?: Extract<HostKeyVerdict, { accepted: false }>,
): SshPoolError {
  const where = `${params.username}@${params.host}:${params.port}`;
  if (rejectedKey) {
    return new SshPoolError(SshPoolErrorCode.HOST_KEY_MISMATCH, `host key of ${params.host}:${params.port} ${rejectedKey.reason}`, {
      presented: rejectedKey.presented,
      expected: rejectedKey.expected,
    });
  }
  switch (error.level) {
    case 'client-authentication':
      return new SshPoolError(SshPoolErrorCode.AUTH_FAILED, `authentication failed for ${where}`);
    case 'client-timeout':
      return new SshPoolError(SshPoolErrorCode.CONNECT_TIMEOUT, `no SSH handshake with ${where} within ${params.readyTimeoutMs} ms`);
    default:
      // Socket errors carry an errno code (ECONNREFUSED, EHOSTUNREACH…): safe to show, no secret in it.
      return new SshPoolError(SshPoolErrorCode.UNREACHABLE, `cannot reach ${where}: ${(error as NodeJS.ErrnoException).code ?? 'SSH handshake failed'}`);
  }
}

class Ssh2Connection implements SshConnection {
  private closed = false;
  private closeReason?: Error;
  private readonly listeners: ((reason?: Error) => void)[] = [];
  /** Set once the connector's feature test passed. */
  openSpare?: () => Promise<SpareChannel>;
  releasedAt?: number;
  /**
   * Commands open their channel in ssh2's two private steps (ssh2-session.ts), which tell an exec the
   * server never got from one whose connection died unanswered. Off: `client.exec`, which cannot.
   */
  twoStep = false;

  constructor(private readonly client: Client) {
    // Errors after the handshake (keepalive timeout, socket reset) end in 'close'; keep the first as the reason.
    client.on('error', (error) => {
      this.closeReason ??= error;
    });
    client.on('close', () => {
      this.closed = true;
      for (const listener of this.listeners.splice(0)) listener(this.closeReason);
    });
  }

  exec(command: string): Promise<SshChannel> {
    if (this.twoStep) {
      return this.openSession().then((session) =>
        session.exec(command).catch((error: unknown) => {
          session.discard();
          throw error;
        }),
      );
    }
    // client.exec hides whether its exec request was written when the connection dies: assume it was.
    return this.open((done) => this.client.exec(command, done), wrapChannel, () => new OutcomeUnknownError('connection closed during exec'));
  }

  /** A session channel with no request yet (ssh2 internals); exposed as `openSpare` once they passed the feature test. */
  openSession(): Promise<SpareChannel> {
    return this.open(
      (done) => openSession(this.client, done),
      (stream) => wrapSpare(stream, () => this.closed),
      () => new ConnectionLostError('connection closed while opening a channel'),
    );
  }

  /** `lost` is the error for a connection that closed before `start` answered. */
  private open<T>(start: (done: (error: Error | undefined, stream: ClientChannel) => void) => void, wrap: (stream: ClientChannel) => T, lost: () => Error): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectionLostError('connection closed'));
    return new Promise((resolve, reject) => {
      try {
        start((error, stream) => {
          if (!error) return resolve(wrap(stream));
          const reason = (error as Error & { reason?: unknown }).reason;
          if (this.closed) reject(lost());
          else if (typeof reason === 'number') reject(new ChannelRefusedError(`channel refused (reason ${reason})`));
          // The server closed the channel, or refused the exec request, on a live connection: nothing ran.
          else reject(new SpareLostError(error.message));
        });
      } catch {
        // ssh2 throws "Not connected" synchronously when the socket is already gone.
        reject(new ConnectionLostError('connection closed'));
      }
    });
  }

  onClose(listener: (reason?: Error) => void): void {
    if (this.closed) listener(this.closeReason);
    else this.listeners.push(listener);
  }

  close(): void {
    this.client.end();
  }
}

/**
 * ssh2 gives up on the tick after `count` unanswered pings, (count + 1) ticks after the last reply;
 * ticking every interval × count / (count + 1) makes that interval × count, the documented bound.
 */
export function ssh2KeepaliveInterval(intervalMs: number, countMax: number): number {
  return Math.max(1, Math.floor((intervalMs * countMax) / (countMax + 1)));
}
