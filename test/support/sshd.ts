// Real-OpenSSH test harness: each SshdHost is a throwaway /usr/sbin/sshd on 127.0.0.x that
// accepts the local test user prepared by scripts/test.sh ($CS2_TEST_DIR/user.json).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { aliveRoot, processTree, signalAll, waitUntilStopped, type ProcessInfo, type RootProcess } from './proc.js';
import { eventually } from './eventually.js';
import { countDisconnects, countLines, tailLines } from './sshd-log.js';
import { generateHostKey, hostKeyFingerprint, hostKeyPath, SSHD, writeSshdConfig, type SshdFiles } from './sshd-config.js';
import { runDir } from './test-user.js';

export { loadTestUser, type TestUser } from './test-user.js';

const SETPRIV = '/usr/bin/setpriv';

export interface SshdOptions {
  address?: string; // default 127.0.0.1; any 127.0.0.x works
  maxSessions?: number; // default 10
  extraConfig?: string[];
}

export interface SshdHost {
  readonly host: string;
  readonly port: number;
  readonly maxSessions: number;
  readonly logPath: string;
  hostKeyFingerprint(): string; // 'SHA256:…' of the current host key
  hostPublicKeyPath(): string; // the current host key's .pub file, as an operator would run ssh-keygen -lf on it
  acceptedAuths(): number; // "Accepted password|publickey for" log lines
  failedAuths(): number; // "Failed <method> for" log lines
  sessionsStarted(): number; // "Starting session:" log lines (one per exec/shell channel)
  disconnects(): number; // connections whose end sshd logged, each counted once (not SIGKILLed ones)
  openConnections(): number; // live per-connection sshd processes (incl. ones kept over rotateHostKey)
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>; // default 5000 ms
  freeze(): void; // SIGSTOP every connection process: TCP stays ESTABLISHED, nothing answers
  thaw(): void; // SIGCONT them
  killConnections(): void; // SIGKILL every connection process; the listener keeps accepting
  rotateHostKey(): Promise<void>; // new host key, same address/port; existing connections survive
  restart(): Promise<void>; // SIGKILL every connection, stop the listener, start it again (same key and port)
  stop(): Promise<void>; // idempotent
}

export function sshdAvailable(): boolean {
  return existsSync(SSHD) && process.getuid?.() === 0;
}

export function freePort(address = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, address, () => {
      const info = server.address();
      const port = typeof info === 'object' && info ? info.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const running = new Set<Host>();

class Host implements SshdHost {
  readonly host: string;
  readonly port: number;
  readonly maxSessions: number;
  readonly logPath: string;
  private readonly dir: string;
  private readonly configPath: string;
  private readonly frozenPath: string;
  private listener: ChildProcess | undefined;
  private listenerRoot: RootProcess | undefined;
  private orphans: RootProcess[] = []; // connections of listeners replaced by rotateHostKey()
  private stopping: Promise<void> | undefined;

  constructor(files: SshdFiles) {
    this.host = files.host;
    this.port = files.port;
    this.maxSessions = files.maxSessions;
    this.dir = files.dir;
    this.logPath = join(this.dir, 'sshd.log');
    this.frozenPath = join(this.dir, 'frozen.pids');
    this.configPath = writeSshdConfig(files);
  }

  hostKeyFingerprint(): string {
    return hostKeyFingerprint(this.dir);
  }

  hostPublicKeyPath(): string {
    return `${hostKeyPath(this.dir)}.pub`;
  }

  private log(): string {
    return existsSync(this.logPath) ? readFileSync(this.logPath, 'utf8') : '';
  }

  acceptedAuths(): number {
    return countLines(this.log(), /^Accepted (?:password|publickey|keyboard-interactive\S*) for /);
  }
  failedAuths(): number {
    return countLines(this.log(), /^Failed \S+ for /);
  }
  sessionsStarted(): number {
    return countLines(this.log(), /^Starting session: /);
  }
  disconnects(): number {
    return countDisconnects(this.log());
  }

  private roots(): number[] {
    const own = this.listenerRoot && aliveRoot(this.listenerRoot) ? [this.listenerRoot.pid] : [];
    this.orphans = this.orphans.filter(aliveRoot);
    return [...own, ...this.orphans.map((o) => o.pid)];
  }

  /** Per-connection sshd processes (and their command children), listener excluded. */
  private connectionProcesses(): ProcessInfo[] {
    const listenerPid = this.listenerRoot?.pid;
    return processTree(this.roots()).filter((p) => p.pid !== listenerPid);
  }
  private connectionPids(): number[] {
    return this.connectionProcesses().map((p) => p.pid);
  }

  openConnections(): number {
    const listenerPid = this.listenerRoot?.pid;
    const tree = processTree(this.roots());
    const direct = tree.filter((p) => p.ppid === listenerPid && p.pid !== listenerPid).length;
    return direct + this.orphans.length;
  }

  waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const failure = () =>
      `sshd ${this.host}:${this.port}: condition not met within ${timeoutMs} ms; last log lines:\n${tailLines(this.log(), 25)}`;
    return eventually(failure, predicate, timeoutMs);
  }

  /**
   * SIGSTOPs connection processes until the set is stable: a stopped process cannot fork, so a
   * child forked during the scan (sshd forks the post-auth child right after authentication)
   * cannot escape the tree. Returns every stopped process.
   */
  private stopAll(): ProcessInfo[] {
    const stopped = new Map<number, ProcessInfo>();
    for (;;) {
      const fresh = this.connectionProcesses().filter((p) => !stopped.has(p.pid));
      if (fresh.length === 0) return [...stopped.values()];
      signalAll(fresh.map((p) => p.pid), 'SIGSTOP');
      waitUntilStopped(fresh.map((p) => p.pid)); // a signalled process may still be completing a fork()
      fresh.forEach((p) => stopped.set(p.pid, p));
    }
  }

  freeze(): void {
    const frozen = this.stopAll();
    // A stopped process never exits on its own: scripts/test.sh SIGKILLs these if jest dies frozen.
    writeFileSync(this.frozenPath, frozen.map((p) => `${p.pid} ${p.startTime}\n`).join(''));
  }
  thaw(): void {
    signalAll(this.connectionPids(), 'SIGCONT');
    rmSync(this.frozenPath, { force: true });
  }
  killConnections(): void {
    signalAll(this.stopAll().map((p) => p.pid), 'SIGKILL');
    rmSync(this.frozenPath, { force: true });
  }

  async rotateHostKey(): Promise<void> {
    const previous = this.listenerRoot;
    const survivors = processTree(this.roots()).filter((p) => p.ppid === previous?.pid);
    this.orphans.push(...survivors); // sshd keeps existing connections when the listener stops
    await this.stopListener();
    generateHostKey(this.dir);
    await this.launch();
  }

  async restart(): Promise<void> {
    this.killConnections();
    await this.stopListener();
    await this.launch();
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.killConnections();
      await this.stopListener();
      running.delete(this);
    })();
    return this.stopping;
  }

  /** Synchronous last resort for process exit. */
  killNow(): void {
    signalAll([...this.roots(), ...this.connectionPids()], 'SIGKILL');
  }

  /** Starts the listener and resolves once it logged "Server listening on". */
  async launch(): Promise<void> {
    const offset = existsSync(this.logPath) ? statSync(this.logPath).size : 0;
    const sshd = [SSHD, '-D', '-f', this.configPath, '-E', this.logPath];
    // setpriv (util-linux) execs sshd with a parent-death signal: if this jest worker dies without
    // running afterAll, the kernel SIGKILLs the listener (connections end with their clients).
    const [cmd, ...args] = existsSync(SETPRIV) ? [SETPRIV, '--pdeathsig', 'KILL', ...sshd] : sshd;
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    let exited = false;
    child.once('exit', () => (exited = true));
    this.listener = child;
    const deadline = Date.now() + 5000;
    for (;;) {
      const fresh = this.log().slice(offset);
      if (fresh.includes('Server listening on')) break;
      if (exited || Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`sshd on ${this.host}:${this.port} did not start: ${stderr}${tailLines(fresh, 10)}`);
      }
      await sleep(5);
    }
    this.listenerRoot = processTree([child.pid ?? -1]).find((p) => p.pid === child.pid);
  }

  private async stopListener(): Promise<void> {
    const child = this.listener;
    this.listener = undefined;
    this.listenerRoot = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }
}

export async function startSshd(options: SshdOptions = {}): Promise<SshdHost> {
  const address = options.address ?? '127.0.0.1';
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = mkdtempSync(join(runDir(), 'sshd-'));
  const extraConfig = options.extraConfig ?? [];
  generateHostKey(dir);
  for (let attempt = 1; ; attempt++) {
    const port = await freePort(address);
    const host = new Host({ host: address, port, maxSessions: options.maxSessions ?? 10, dir, extraConfig });
    running.add(host);
    try {
      await host.launch();
      return host;
    } catch (err) {
      running.delete(host);
      const bindRace = err instanceof Error && /Bind to port|Cannot bind/.test(err.message);
      if (!bindRace || attempt >= 3) throw err;
    }
  }
}

// Safety nets: a spec that forgets stop() (or fails) must not leave sshd running. Under jest the
// afterAll hook does it (jest sandboxes `process`, so its 'exit' event only fires outside jest).
process.on('exit', () => running.forEach((h) => h.killNow()));
if (typeof afterAll === 'function') {
  afterAll(async () => {
    await Promise.all([...running].map((h) => h.stop()));
  });
}
