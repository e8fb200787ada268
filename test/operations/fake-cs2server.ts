// Fake LinuxGSM installs for the operations tests: per server, a `cs2server` control script (POSIX sh,
// see fake-cs2server-script.ts) and a copy of dash as <gameDirectory>/game/bin/linuxsteamrt64/cs2,
// in a scratch tree owned by the SSH test user. The harness's sshd runs on this machine, so the test
// reads the script's pid files and /proc directly to check what happened "on the host".
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../support/eventually.js';
import { isAlive } from '../support/proc.js';
import { controlScript } from './fake-cs2server-script.js';

export const CS2_BINARY = 'game/bin/linuxsteamrt64/cs2';

export interface UpdateConfig {
  /** Progress lines printed, one per interval (default 5). */
  steps: number;
  /** Seconds between progress lines, fractions allowed (default 0.1). */
  intervalS: number;
  /** What update/validate exits with (default 0). */
  exitCode: number;
  /** update/validate (and their children) ignore SIGTERM (default false). */
  ignoreTerm: boolean;
  /** Each progress line comes twice, the first copy ended by a lone `\r` (default false). */
  redraw: boolean;
}

export type Stream = 'stdout' | 'stderr';
export interface OutputLine {
  stream: Stream;
  line: string;
}

export { isAlive };

/** Resolves once none of `pids` runs; a kill is delivered at once, but the kernel may take a moment to end them. */
export function processesEnd(pids: number[], timeoutMs = 3000): Promise<void> {
  return eventually(() => `processes still alive after ${timeoutMs} ms: ${pids.filter(isAlive).map((pid) => `${pid} (${cmdline(pid).replace(/\0/g, ' ')})`).join(', ')}`, () => !pids.some(isAlive), timeoutMs);
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1');
  } catch {
    return '';
  }
}

function readPid(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

export class FakeCs2Server {
  readonly controlScript: string;
  readonly gameDirectory: string;
  readonly binary: string;
  private update: UpdateConfig = { steps: 5, intervalS: 0.1, exitCode: 0, ignoreTerm: false, redraw: false };

  constructor(
    readonly dir: string,
    readonly gamePort: number,
  ) {
    this.controlScript = join(dir, 'cs2server');
    this.gameDirectory = join(dir, 'serverfiles');
    this.binary = join(this.gameDirectory, CS2_BINARY);
  }

  /** Writes cs2server.conf: the next update/validate runs with these settings. */
  configureUpdate(config: Partial<UpdateConfig>): void {
    this.update = { ...this.update, ...config };
    const { steps, intervalS, exitCode, ignoreTerm, redraw } = this.update;
    const flags = `IGNORE_TERM=${ignoreTerm ? 1 : 0}\nREDRAW=${redraw ? 1 : 0}\n`;
    const conf = `STEPS=${steps}\nINTERVAL=${intervalS}\nEXIT_CODE=${exitCode}\n${flags}`;
    writeFileSync(join(this.dir, 'cs2server.conf'), conf, { mode: 0o644 });
  }

  /** The fake cs2's pid while `start` recorded one and it runs, else undefined. */
  gamePid(): number | undefined {
    const pid = readPid(join(this.dir, 'cs2.pid'));
    return pid !== undefined && isAlive(pid) ? pid : undefined;
  }

  /** The last update/validate's shell (`$$`) and its SteamCMD stand-in `sleep 600.<port>` child, as recorded. */
  updatePids(): { shell: number; helper: number } | undefined {
    const shell = readPid(join(this.dir, 'update.pid'));
    const helper = readPid(join(this.dir, 'helper.pid'));
    return shell !== undefined && helper !== undefined ? { shell, helper } : undefined;
  }

  /**
   * Resolves once an update/validate runs on the host: its shell alive and its helper exec'd (until then
   * the forked helper still carries the shell's argv).
   */
  async updateRunning(timeoutMs = 10_000): Promise<{ shell: number; helper: number }> {
    let running: { shell: number; helper: number } | undefined;
    await eventually(`an update to run in ${this.dir}`, () => {
      const pids = this.updatePids();
      if (pids === undefined || !isAlive(pids.shell) || !cmdline(pids.helper).startsWith(`sleep\u0000600.${this.gamePort}\u0000`)) return false;
      running = pids;
      return true;
    }, timeoutMs);
    return running!;
  }

  /** What update/validate prints with the current configuration, per stream, in order. */
  expectedOutput(action: 'update' | 'validate'): { stdout: string[]; stderr: string[]; percents: number[] } {
    const { steps, exitCode } = this.update;
    const state = action === 'validate' ? '0x5) verifying install' : '0x61) downloading';
    // Hundredths as the script computes them (integer division), printed with two decimals.
    const hundredths = Array.from({ length: steps }, (_, i) => Math.floor(((i + 1) * 10000) / steps));
    const printed = (h: number) => `${Math.floor(h / 100)}.${String(h % 100).padStart(2, '0')}`;
    const progress = hundredths.map((h, i) => ` Update state (${state}, progress: ${printed(h)} (${(i + 1) * 1000} / ${steps * 1000})`);
    // The service stores a progress event when the value enters another whole percent than the last event's.
    let last: number | undefined;
    const percents = hundredths.map((h) => h / 100).filter((p) => {
      const kept = last === undefined || Math.floor(p) !== Math.floor(last);
      if (kept) last = p;
      return kept;
    });
    const stdout = [`[ .... ] ${action}: cs2server via SteamCMD`, ...progress.flatMap((line) => (this.update.redraw ? [line, line] : [line]))];
    const stderr = ["WARNING: setlocale('en_US.UTF-8') failed, using locale: 'C'"];
    if (exitCode === 0) stdout.push("Success! App '730' fully installed.");
    else stderr.push("Error! App '730' state is 0x602 after update job.");
    return { stdout, stderr, percents };
  }
}

/** A scratch tree of fake LinuxGSM servers for one spec. */
export class FakeCs2ServerFarm {
  readonly root = mkdtempSync(join(tmpdir(), 'cs2-ops-'));
  private readonly servers: FakeCs2Server[] = [];
  private readonly uid: number;
  private readonly gid: number;

  constructor(readonly username: string) {
    chmodSync(this.root, 0o755); // mkdtemp makes 0700: the test user must traverse it
    this.uid = Number(execFileSync('id', ['-u', username], { encoding: 'utf8' }).trim());
    this.gid = Number(execFileSync('id', ['-g', username], { encoding: 'utf8' }).trim());
  }

  /** Installs `<root>/<name>/cs2server` for a game server on `gamePort`, owned by the test user. */
  add(name: string, gamePort: number): FakeCs2Server {
    const server = new FakeCs2Server(join(this.root, name), gamePort);
    mkdirSync(join(server.binary, '..'), { recursive: true, mode: 0o755 });
    copyFileSync('/bin/dash', server.binary);
    chmodSync(server.binary, 0o755);
    writeFileSync(server.controlScript, controlScript({ dir: server.dir, binary: server.binary, gamePort }), { mode: 0o755 });
    server.configureUpdate({});
    execFileSync('chown', ['-R', `${this.uid}:${this.gid}`, server.dir]);
    this.servers.push(server);
    return server;
  }

  private pgrep(args: string[]): number[] {
    try {
      return execFileSync('pgrep', ['-u', this.username, ...args], { encoding: 'utf8' }).trim().split('\n').map(Number);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  }

  /** Kills every process the farm's servers started (game process groups, updates, helpers), removes the tree. */
  cleanup(): void {
    for (const server of this.servers) {
      const game = server.gamePid();
      if (game !== undefined) signal(-game);
      const update = server.updatePids();
      if (update) [update.shell, update.helper].filter(isAlive).forEach((pid) => signal(pid));
    }
    // Anything else still running from the tree (an update whose pid files a later one overwrote): its
    // shell's command line names the root, its helper's holds the port.
    this.pgrep(['-f', this.root]).forEach((pid) => signal(pid));
    for (const server of this.servers) this.pgrep(['-x', '-f', `sleep 600.${server.gamePort}`]).forEach((pid) => signal(pid));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function signal(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
