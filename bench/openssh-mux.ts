import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** OpenSSH's own multiplexing: a ControlMaster, and `ssh … true` runs through its socket. */
export class OpenSshMux {
  private readonly dir = mkdtempSync(join(tmpdir(), 'cs2-bench-mux-'));
  private readonly controlPath = join(this.dir, 'cm');
  private readonly keyPath = join(this.dir, 'key');

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly user: string,
    privateKey: string,
  ) {
    writeFileSync(this.keyPath, privateKey, { mode: 0o600 });
  }

  private args(): string[] {
    return [
      '-F', '/dev/null', '-p', String(this.port), '-i', this.keyPath, '-o', 'BatchMode=yes',
      '-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR',
      '-o', `ControlPath=${this.controlPath}`, `${this.user}@${this.host}`,
    ];
  }

  /**
   * Starts the master (`-f`: ssh forks once authenticated) and resolves when the parent exits. Async on
   * purpose: the latency proxy lives in this process and must keep forwarding meanwhile.
   */
  start(): Promise<void> {
    return new Promise((resolve, reject) => {
      const master = spawn('ssh', ['-M', '-N', '-f', '-o', 'ControlPersist=yes', ...this.args()], { stdio: 'ignore' });
      master.on('exit', (code) => (code === 0 ? resolve() : reject(new Error('could not start the OpenSSH ControlMaster'))));
    });
  }

  /** One `ssh host true` through the master; resolves with its wall time in ms. */
  run(command = 'true'): Promise<number> {
    const started = performance.now();
    return new Promise((resolve, reject) => {
      const child = spawn('ssh', [...this.args(), command], { stdio: 'ignore' });
      child.on('exit', (code) => (code === 0 ? resolve(performance.now() - started) : reject(new Error(`ssh exited ${code}`))));
    });
  }

  stop(): void {
    spawnSync('ssh', ['-O', 'exit', ...this.args()], { stdio: 'ignore' });
  }
}
