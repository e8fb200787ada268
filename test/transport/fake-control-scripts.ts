// Tiny stand-ins for LinuxGSM's cs2server, for the operations specs of the TCP transport: each
// script prints a few lines (some SteamCMD progress), and a gated one waits for the test to let it finish.
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchDir } from '../support/databases.js';

/** The SteamCMD lines every script prints; their percents are the progress events. */
export const PROGRESS = [12.5, 45.12, 100];
const steamLine = (percent: number) => `Update state (0x61) downloading, progress: ${percent.toFixed(2)} (1 / 2)`;

export class FakeControlScripts {
  /** Readable by the SSH test user (mkdtemp makes 0700 directories). */
  private readonly dir = scratchDir('control-scripts');
  private count = 0;

  /** Where the scripts, run as the test user, may write (their pid files). */
  private readonly writable = join(this.dir, 'pids');

  constructor() {
    chmodSync(this.dir, 0o755);
    mkdirSync(this.writable);
    chmodSync(this.writable, 0o1777);
  }

  /** A script that prints its action, the progress lines, a stderr line and `finished`, then exits 0. */
  quick(): string {
    return this.write(`${this.progressLines()}
sleep 0.1
echo "minor warning" >&2
sleep 0.1
echo finished`);
  }

  /** `lines` lines of `width` characters, at once: a backlog far larger than one frame. */
  chatty(lines: number, width: number): string {
    return this.write(`i=0
while [ $i -lt ${lines} ]; do printf '%0${width}d\\n' $i; i=$((i + 1)); done`);
  }

  /**
   * Prints `waiting`, writes its pid to `pidFile`, then waits until `release()` before printing the
   * progress lines and `finished`. `running()` tells whether its process is still alive on the host.
   */
  gated(): { path: string; release(): void; running(): boolean } {
    const gate = join(this.dir, `gate-${++this.count}`);
    const pidFile = join(this.writable, `gate-${this.count}.pid`);
    const path = this.write(`echo $$ > ${pidFile}
echo waiting
while [ ! -e ${gate} ]; do sleep 0.05; done
${this.progressLines()}
echo finished`);
    return {
      path,
      release: () => writeFileSync(gate, ''),
      running: () => existsSync(pidFile) && existsSync(`/proc/${readFileSync(pidFile, 'utf8').trim()}`),
    };
  }

  /** The events `quick` (after `action`) and a released `gated` print, from the first line printed. */
  static progressEvents(firstId: number): { id: number; event: string; data: unknown }[] {
    let id = firstId;
    return PROGRESS.flatMap((percent) => [
      { id: id++, event: 'output', data: { stream: 'stdout', line: steamLine(percent) } },
      { id: id++, event: 'progress', data: { percent } },
    ]);
  }

  private progressLines(): string {
    return PROGRESS.map((percent) => `echo '${steamLine(percent)}'; sleep 0.05`).join('\n');
  }

  private write(body: string): string {
    const path = join(this.dir, `cs2server-${++this.count}`);
    writeFileSync(path, `#!/bin/sh\necho "cs2server $1"\n${body}\n`, { mode: 0o755 });
    return path;
  }
}
