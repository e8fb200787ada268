import { PassThrough } from 'node:stream';
import {
  ChannelRefusedError,
  ConnectionLostError,
  OutcomeUnknownError,
  type ChannelExit,
  type ChannelOutcome,
  type ConnectParams,
  SpareLostError,
  type SpareChannel,
  type SshChannel,
  type SshConnection,
} from '../../src/ssh-pool/ssh-connector.js';
import type { SshPoolError } from '../../src/ssh-pool/ssh-pool.errors.js';
import type { SshTarget } from '../../src/ssh-pool/ssh-pool.types.js';

/**
 * A scriptable stand-in for SshConnector, for unit tests of pool logic only. Commands it understands:
 * `echo TEXT`, `sleep MS`, `hang`, `stuck`, `big BYTES`. Sessions above `maxSessions` are refused like sshd does.
 * With `spares`, connections asked for spares offer `openSpare` (bare sessions that count like any other).
 */
export class FakeConnector {
  maxSessions = 10;
  spares = false;
  /** The server closes this many sessions as their exec request arrives (the race a spare's state check cannot see). */
  closeSpareOnExec = 0;
  /**
   * The connection dies right after this many exec requests reached the server (which runs them), before
   * any answer: the client cannot know whether they ran.
   */
  loseConnectionOnExec = 0;
  /** Every command the server started, in order (what a host would have run). */
  readonly ran: string[] = [];
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
    if (this.spares && params.spareChannels) connection.openSpare = () => connection.openSession();
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
  openSpare?: () => Promise<SpareChannel>;
  /** Idle spares, as the server sees them; `closeIdleSpares` closes them from the server side. */
  readonly idleSpares = new Set<{ close(): void }>();
  /** Log of spare events, in order: 'open', 'discard', 'server-close', 'exec', and 'connection-close'. */
  readonly spareLog: string[] = [];
  private readonly listeners: (() => void)[] = [];
  /** Ends each running command's channel as lost (its connection died). */
  private readonly running = new Set<() => void>();

  constructor(private readonly fake: FakeConnector) {}

  exec(command: string): Promise<SshChannel> {
    return this.openAnd(() => this.start(command)).then((channel) => this.answer(channel));
  }

  /** The server's answer to an exec request it has started: lost with the connection when told so. */
  private answer(channel: SshChannel): Promise<SshChannel> {
    if (this.fake.loseConnectionOnExec === 0) return Promise.resolve(channel);
    this.fake.loseConnectionOnExec--;
    this.close();
    return Promise.reject(new OutcomeUnknownError('connection lost before the answer'));
  }

  openSession(): Promise<SpareChannel> {
    return this.openAnd(() => this.spare());
  }

  /** Like sshd's ChannelTimeout: the server closes every idle spare; the client hears nothing until it looks. */
  closeIdleSpares(): void {
    for (const spare of [...this.idleSpares]) spare.close();
  }

  private openAnd<T>(start: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new ConnectionLostError('closed'));
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        if (this.closed) return reject(new ConnectionLostError('closed'));
        if (this.sessions >= this.fake.maxSessions) return reject(new ChannelRefusedError('open failed'));
        this.sessions++;
        this.peakSessions = Math.max(this.peakSessions, this.sessions);
        resolve(start());
      }),
    );
  }

  private spare(): SpareChannel {
    this.spareLog.push('open');
    let state: 'idle' | 'used' | 'closed' = 'idle';
    let confirm!: () => void;
    const closed = new Promise<void>((resolve) => (confirm = resolve));
    const free = (event: string) => {
      this.idleSpares.delete(handle);
      this.spareLog.push(event);
      setImmediate(() => {
        this.sessions--;
        confirm();
      });
    };
    const handle = { close: () => (state === 'idle' ? ((state = 'closed'), free('server-close')) : undefined) };
    this.idleSpares.add(handle);
    return {
      get alive() {
        return state === 'idle';
      },
      closed,
      exec: (command) => {
        if (state === 'idle' && this.fake.closeSpareOnExec > 0) {
          this.fake.closeSpareOnExec--;
          handle.close();
        }
        if (state !== 'idle') return Promise.reject(new SpareLostError('closed'));
        state = 'used';
        this.idleSpares.delete(handle);
        this.spareLog.push('exec');
        // The command's channel frees the session when it ends; `closed` follows it.
        const channel = this.start(command);
        void channel.closed.then(() => confirm());
        return new Promise<SshChannel>((resolve) => setImmediate(() => resolve(channel))).then((started) => this.answer(started));
      },
      discard: () => {
        if (state === 'idle') {
          state = 'used';
          free('discard');
        }
      },
    };
  }

  onClose(listener: () => void): void {
    this.listeners.push(listener);
  }

  close(): void {
    if (this.closed) return;
    this.spareLog.push('connection-close');
    this.closed = true;
    for (const listener of this.listeners.splice(0)) listener();
    for (const lose of [...this.running]) lose();
  }

  private start(command: string): SshChannel {
    this.fake.ran.push(command);
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
      this.running.delete(lose);
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
    const lose = () => close({ exitCode: null, signal: null, lost: true });
    this.running.add(lose);
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
      // A signalled fake command ends as a process killed by that signal would.
      signal: (signal) => {
        this.fake.killed.push(`${signal}:${command}`);
        close({ exitCode: null, signal, lost: false });
      },
      discard: () => close({ exitCode: null, signal: null, lost: true }),
    };
  }
}

/** A password target on the fake's host; override what the test is about. */
export function fakeTarget(overrides: Partial<SshTarget> = {}): SshTarget {
  return { serverId: 'a', host: 'game-host', port: 22, username: 'cs2', auth: { type: 'PASSWORD', password: 'pw-1' }, ...overrides };
}
