// Fake CS2 dedicated servers for the status tests and benchmark: a copy of dash installed as
// <gameDirectory>/game/bin/linuxsteamrt64/cs2, run as the SSH test user with the given arguments.
// dash stays the parent of its `sleep`, so the spawned pid keeps the fake's argv for its lifetime.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';

export const CS2_BINARY = 'game/bin/linuxsteamrt64/cs2';

export interface FakeCs2 {
  pid: number;
  /** Date.now() just before it was spawned. */
  startedAt: number;
}

/** A scratch tree the test user can traverse (mkdtemp makes 0700 directories). */
export class FakeCs2Farm {
  readonly root = mkdtempSync(join(tmpdir(), 'cs2-status-'));
  private readonly children: { child: ChildProcess; binary: string }[] = [];
  private readonly uid: number;
  private readonly gid: number;

  constructor(username: string) {
    chmodSync(this.root, 0o755);
    this.uid = Number(execFileSync('id', ['-u', username], { encoding: 'utf8' }).trim());
    this.gid = Number(execFileSync('id', ['-g', username], { encoding: 'utf8' }).trim());
  }

  /** `<root>/<relative>`: a game directory path (not created). */
  dir(relative: string): string {
    return join(this.root, relative);
  }

  /**
   * Installs the fake binary under `gameDirectory` and starts it as the test user with `args`: as
   * `<gameDirectory>/game/bin/linuxsteamrt64/cs2` from the farm's root, or (`relative`) as `./cs2`
   * from that bin directory, as LinuxGSM starts it.
   */
  start(gameDirectory: string, args: string[], options: { relative?: boolean } = {}): FakeCs2 {
    const binary = join(gameDirectory, CS2_BINARY);
    const binDir = join(binary, '..');
    mkdirSync(binDir, { recursive: true, mode: 0o755 });
    copyFileSync('/bin/dash', binary);
    chmodSync(binary, 0o755);
    return this.spawn(options.relative ? './cs2' : binary, options.relative ? binDir : this.root, args);
  }

  /** A process that is not the game: `/bin/dash` holding `args` (say a path in a game directory and `-port`). */
  startOther(args: string[]): FakeCs2 {
    return this.spawn('/bin/dash', this.root, args);
  }

  private spawn(argv0: string, cwd: string, args: string[]): FakeCs2 {
    const startedAt = Date.now();
    const setpriv = ['--reuid', String(this.uid), '--regid', String(this.gid), '--clear-groups'];
    // detached: its own process group, so stop() also ends the sleep.
    const child = spawn('/usr/bin/setpriv', [...setpriv, argv0, '-c', 'sleep 600 & wait', 'cs2', ...args], { detached: true, stdio: 'ignore', cwd });
    this.children.push({ child, binary: argv0 });
    if (child.pid === undefined) throw new Error(`could not start ${argv0}`);
    return { pid: child.pid, startedAt };
  }

  /**
   * Resolves once every fake has exec'd (setpriv replaced by the binary, keeping the pid) and its
   * `sleep` runs: until then dash's forked child still carries the fake's argv.
   */
  async started(): Promise<void> {
    const settled = ({ child, binary }: { child: ChildProcess; binary: string }) => {
      try {
        if (!readFileSync(`/proc/${child.pid}/cmdline`, 'latin1').startsWith(`${binary}\0`)) return false;
        const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(' ').filter(Boolean);
        return children.some((pid) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').startsWith('sleep\0'));
      } catch {
        return false;
      }
    };
    await eventually('fake cs2 processes to start', () => this.children.every(settled), 5000);
  }

  /** Kills every fake (and its sleep) and removes the tree. */
  stop(): void {
    for (const { child } of this.children) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
