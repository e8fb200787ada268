// Commands for the idempotency specs that leave a count on the host: each run appends one line to a
// file, and a gated command waits (after saying it started) until the test lets it finish.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { remoteScratchPath } from '../support/ssh-servers.js';
import { eventually } from '../support/eventually.js';

export class HostMark {
  readonly path = remoteScratchPath('idem-mark');

  /** A command that appends one line: the host's count of runs. */
  command(extra = ''): string {
    return `echo ran >> ${this.path}${extra}`;
  }

  /** How many times a command of this mark ran on the host. */
  runs(): number {
    return existsSync(this.path) ? readFileSync(this.path, 'utf8').split('\n').filter(Boolean).length : 0;
  }

  cleanup(): void {
    rmSync(this.path, { force: true });
  }
}

/** A command that marks its start, waits for `release()`, then appends to `mark`. */
export class GatedCommand {
  private readonly started = remoteScratchPath('idem-started');
  private readonly gate = remoteScratchPath('idem-gate');

  constructor(readonly mark: HostMark) {}

  get command(): string {
    return `touch ${this.started}; while [ ! -e ${this.gate} ]; do sleep 0.05; done; ${this.mark.command()}`;
  }

  /** Resolves once the command runs on the host. */
  running(): Promise<void> {
    return eventually('the gated command to start on the host', () => existsSync(this.started), 15_000);
  }

  release(): void {
    writeFileSync(this.gate, '');
  }

  cleanup(): void {
    for (const path of [this.started, this.gate]) rmSync(path, { force: true });
    this.mark.cleanup();
  }
}
