import { Injectable } from '@nestjs/common';
import type { Readable } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { HostKeyVerdict } from './host-key-verifier.js';
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
  /**
   * Drain what is left of the output and close the channel without a signal. Draining matters:
   * ssh2 reports a channel's close only after its output ended, so an unread channel never closes.
   */
  discard(): void;
}

/** An authenticated connection that channels are multiplexed over. */
export interface SshConnection {
  /** @throws ChannelRefusedError when the server refuses the session (MaxSessions), ConnectionLostError when the connection is gone. */
  exec(command: string): Promise<SshChannel>;
  /** Called once, when the connection is gone for any reason (close, error, keepalive timeout). */
  onClose(listener: (reason?: Error) => void): void;
  close(): void;
}

/** The server refused to open a channel: a capacity signal, not a dead connection. */
export class ChannelRefusedError extends Error {}
/** The connection was gone before the channel opened: nothing ran, safe to retry elsewhere. */
export class ConnectionLostError extends Error {}

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
        resolve(new Ssh2Connection(client));
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
    if (this.closed) return Promise.reject(new ConnectionLostError('connection closed'));
    return new Promise((resolve, reject) => {
      try {
        this.client.exec(command, (error, stream) => {
          if (!error) return resolve(wrapChannel(stream));
          const reason = (error as Error & { reason?: unknown }).reason;
          if (this.closed) reject(new ConnectionLostError('connection closed while opening a channel'));
          else if (typeof reason === 'number') reject(new ChannelRefusedError(`channel refused (reason ${reason})`));
          else reject(error);
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

function wrapChannel(stream: ClientChannel): SshChannel {
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
  stream.end();
  const discard = () => {
    stream.resume();
    stream.stderr.resume();
    stream.close();
  };
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
    discard,
  };
}

/**
 * ssh2 gives up on the tick after `count` unanswered pings, (count + 1) ticks after the last reply;
 * ticking every interval × count / (count + 1) makes that interval × count, the documented bound.
 */
export function ssh2KeepaliveInterval(intervalMs: number, countMax: number): number {
  return Math.max(1, Math.floor((intervalMs * countMax) / (countMax + 1)));
}

type ChannelInternals = { outgoing: { id: number; state: string }; _client: { _protocol: { signal(id: number, name: string): void } } };

/**
 * ssh2's `signal()` sends nothing once our side sent EOF, yet RFC 4254 allows channel requests after
 * it and sshd honours them: we close stdin at once, so send the request through ssh2's protocol
 * object (ssh2 is pinned to ~1.17; pool-failures.e2e-spec proves the kill against real sshd).
 */
function sendSignal(stream: ClientChannel, name: string): void {
  const channel = stream as unknown as ChannelInternals;
  if (channel.outgoing.state === 'open' || channel.outgoing.state === 'eof') channel._client._protocol.signal(channel.outgoing.id, name);
}
