import { PassThrough } from 'node:stream';
import {
  ChannelRefusedError,
  ConnectionLostError,
  type ChannelExit,
  type ChannelOutcome,
  type ConnectParams,
  type SshChannel,
  type SshConnection,
} from '../../src/ssh-pool/ssh-connector.js';
import type { SshPoolError } from '../../src/ssh-pool/ssh-pool.errors.js';

/**
 * A scriptable stand-in for SshConnector, for unit tests of pool logic only. Commands it understands:
 * `echo TEXT`, `sleep MS`, `hang`, `stuck`, `big BYTES`. Sessions above `maxSessions` are refused like sshd does.
 */
export class FakeConnector {
  maxSessions = 10;
  /** How long after a channel's close its session still counts against maxSessions (sshd's late free). */
  freeLagMs = 0;
  connectDelayMs = 5;
  failWith?: SshPoolError;
  connectAttempts = 0;
  readonly connections: FakeConnection[] = [];
  readonly killed: string[] = [];

  async connect(params: ConnectParams): Promise<SshConnection> {
    this.connectAttempts++;
    await new Promise((r) => setTimeout(r, this.connectDelayMs));
    await params.verifyHostKey(Buffer.from('fake-host-key'));
    if (this.failWith) throw this.failWith;
    const connection = new FakeConnection(this);
    this.connections.push(connection);
    return connection;
  }

  get openConnections(): number {
    return this.connections.filter((c) => !c.closed).length;
  }
}

export class FakeConnection implements SshConnection {
  sessions = 0;
  peakSessions = 0;
  closed = false;
  private readonly listeners: (() => void)[] = [];

  constructor(private readonly fake: FakeConnector) {}

  exec(command: string): Promise<SshChannel> {
    if (this.closed) return Promise.reject(new ConnectionLostError('closed'));
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        if (this.sessions >= this.fake.maxSessions) return reject(new ChannelRefusedError('open failed'));
        this.sessions++;
        this.peakSessions = Math.max(this.peakSessions, this.sessions);
        resolve(this.start(command));
      }),
    );
  }

  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const listener of this.listeners.splice(0)) listener();
  }

  private start(command: string): SshChannel {
    const stdout = new PassThrough();
    const stderr = new PassThrough();
    let exit!: (outcome: ChannelExit) => void;
    const exited = new Promise<ChannelExit>((resolve) => (exit = resolve));
    let finish!: (outcome: ChannelOutcome) => void;
    const closed = new Promise<ChannelOutcome>((resolve) => (finish = resolve));
    let ended = false;
    const end = (outcome: ChannelOutcome) => {
      if (ended) return;
      ended = true;
      if (!outcome.lost) exit(outcome);
      stdout.end();
      stderr.end();
      // Like sshd, the session is free only once the close is on its way: never before the client can see it,
      // and on a busy host `freeLagMs` later.
      setImmediate(() => {
        if (this.fake.freeLagMs === 0) this.sessions--;
        else setTimeout(() => this.sessions--, this.fake.freeLagMs);
        finish(outcome);
      });
    };
    const [verb, arg = ''] = command.split(' ', 2);
    let timer: NodeJS.Timeout | undefined;
    if (verb === 'echo') {
      stdout.write(`${arg}\n`);
      setImmediate(() => end({ exitCode: 0, signal: null, lost: false }));
    } else if (verb === 'sleep') {
      timer = setTimeout(() => end({ exitCode: 0, signal: null, lost: false }), Number(arg));
    } else if (verb === 'big') {
      stdout.write(Buffer.alloc(Number(arg), 'x'));
      setImmediate(() => end({ exitCode: 0, signal: null, lost: false }));
    }
    // `stuck`: like `hang`, and the close is never confirmed either (a peer that lost our CLOSE).
    const close = (outcome: ChannelOutcome) => {
      clearTimeout(timer);
      if (verb !== 'stuck') end(outcome);
    };
    return {
      stdout,
      stderr,
      exited,
      closed,
      kill: (signal) => {
        this.fake.killed.push(`${signal}:${command}`);
        close({ exitCode: null, signal, lost: true });
      },
      discard: () => close({ exitCode: null, signal: null, lost: true }),
    };
  }
}
