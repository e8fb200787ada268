// Builds the Docker image without a container engine: every stage of the Dockerfile is replayed
// into a host directory that mirrors the image's `/` (copies honouring .dockerignore, RUN lines
// run literally), and commands run in a private mount namespace where those directories are bound
// at their image paths (/app) and the image's users exist. Needs root (unshare, mount, setpriv).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, posix, relative } from 'node:path';
import { dockerIgnore, readDockerfile, type Stage } from './dockerfile.js';

/** Top-level directories of the host that a stage may not replace: only new ones (/app) are bound. */
const SYSTEM_DIRS = new Set(['bin', 'boot', 'dev', 'etc', 'home', 'lib', 'lib64', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'var']);

export interface ImageUser {
  uid: number;
  gid: number;
}

/** What the final stage says about starting the image, with its files under `root`. */
export interface ImageRuntime {
  root: string; // host directory mirroring the image's `/`
  workdir: string;
  env: Record<string, string>;
  user: string;
  argv: string[];
  volumes: string[];
  exposed: number[];
}

interface StageState extends ImageRuntime {
  name?: string;
}

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class ImageReplay {
  private readonly stages: StageState[] = [];

  /** `user` is the host uid/gid that the image's non-root users (USER node) become. */
  constructor(
    private readonly context: string,
    private readonly workspace: string,
    private readonly user: ImageUser,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** Replays every stage; returns the final one. @throws on any failing step, with its output. */
  async build(): Promise<ImageRuntime> {
    const dockerfile = readDockerfile(join(this.context, 'Dockerfile'));
    this.writeAccounts(dockerfile);
    for (const [index, stage] of dockerfile.entries()) {
      const state: StageState = { name: stage.name, root: join(this.workspace, `stage-${index}`), workdir: '/', env: {}, user: 'root', argv: [], volumes: [], exposed: [] };
      mkdirSync(state.root, { recursive: true });
      this.stages.push(state);
      for (const step of stage.instructions) await this.apply(state, step);
    }
    return this.stages.at(-1)!;
  }

  private async apply(state: StageState, step: Stage['instructions'][number]): Promise<void> {
    switch (step.op) {
      case 'WORKDIR':
        state.workdir = posix.resolve(state.workdir, step.path);
        mkdirSync(this.hostPath(state, state.workdir), { recursive: true });
        return;
      case 'COPY':
        return this.copy(state, step.sources, step.dest, step.from);
      case 'RUN': {
        const started = Date.now();
        await this.run(state, ['/bin/sh', '-c', step.command]);
        this.log(`RUN ${step.command} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
        return;
      }
      case 'ENV':
        Object.assign(state.env, step.vars);
        return;
      case 'USER':
        state.user = step.user;
        return;
      case 'VOLUME':
        state.volumes.push(...step.paths);
        return;
      case 'EXPOSE':
        state.exposed.push(...step.ports);
        return;
      case 'CMD':
        state.argv = step.argv;
        return;
      case 'IGNORED':
        return;
    }
  }

  hostPath(state: ImageRuntime, imagePath: string): string {
    return join(state.root, posix.resolve('/', imagePath));
  }

  private copy(state: StageState, sources: string[], dest: string, from?: string): void {
    const target = posix.resolve(state.workdir, dest);
    const intoDirectory = dest.endsWith('/') || sources.length > 1;
    const ignored = dockerIgnore(readIfExists(join(this.context, '.dockerignore')));
    for (const source of sources) {
      const origin = from === undefined ? join(this.context, source) : this.hostPath(this.stage(from), source);
      const excluded = from === undefined && ignored(relative(this.context, origin));
      if (excluded || !existsSync(origin)) throw new Error(`COPY ${source}: not in ${from === undefined ? 'the build context (after .dockerignore)' : `stage ${from}`}`);
      const isDirectory = statSync(origin).isDirectory();
      const destination = this.hostPath(state, intoDirectory && !isDirectory ? posix.join(target, basename(source)) : target);
      // Docker sends only what .dockerignore lets through, so a COPY of a directory skips the rest.
      const filter = from === undefined ? (path: string) => !ignored(relative(this.context, path)) : () => true;
      cpSync(origin, destination, { recursive: true, verbatimSymlinks: true, filter });
    }
  }

  private stage(nameOrIndex: string): StageState {
    const found = this.stages.find((s, i) => s.name === nameOrIndex || String(i) === nameOrIndex);
    if (!found) throw new Error(`COPY --from=${nameOrIndex}: no such earlier stage`);
    return found;
  }

  /** Host accounts plus the image's USERs (node) as this replay's uid, bound over /etc in the namespace. */
  private writeAccounts(stages: Stage[]): void {
    const users = new Set(stages.flatMap((s) => s.instructions.flatMap((i) => (i.op === 'USER' ? [i.user] : []))));
    users.delete('root');
    // A host account of the same name (nobody) is replaced: the image's users are always the replay's uid.
    const others = (file: string) => readFileSync(file, 'utf8').split('\n').filter((line) => line !== '' && !users.has(line.split(':')[0]));
    const passwd = [...others('/etc/passwd'), ...[...users].map((name) => `${name}:x:${this.user.uid}:${this.user.gid}::/home/${name}:/usr/sbin/nologin`)];
    const group = [...others('/etc/group'), ...[...users].map((name) => `${name}:x:${this.user.gid}:`)];
    mkdirSync(join(this.workspace, 'etc'), { recursive: true });
    writeFileSync(join(this.workspace, 'etc', 'passwd'), `${passwd.join('\n')}\n`);
    writeFileSync(join(this.workspace, 'etc', 'group'), `${group.join('\n')}\n`);
  }

  /** `sh -c` text that binds the stage's directories at their image paths, then execs `argv` as `user`. */
  private namespaceScript(state: ImageRuntime, argv: string[], env: Record<string, string>, user: string): string {
    const lines = ['set -e'];
    for (const entry of readdirSync(state.root)) {
      if (SYSTEM_DIRS.has(entry)) throw new Error(`the image check cannot replay files placed under /${entry}`);
      mkdirSync(`/${entry}`, { recursive: true }); // an empty mount point on the host; the content stays in the namespace
      lines.push(`mount --bind ${quote(join(state.root, entry))} ${quote(`/${entry}`)}`);
    }
    lines.push(`mount --bind ${quote(join(this.workspace, 'etc', 'passwd'))} /etc/passwd`);
    lines.push(`mount --bind ${quote(join(this.workspace, 'etc', 'group'))} /etc/group`);
    lines.push(`cd ${quote(state.workdir)}`);
    const drop = user === 'root' ? '' : `setpriv --reuid=${this.user.uid} --regid=${this.user.gid} --clear-groups --no-new-privs `;
    const vars = Object.entries(env).map(([k, v]) => quote(`${k}=${v}`));
    lines.push(`exec ${drop}/usr/bin/env -i ${vars.join(' ')} ${argv.map(quote).join(' ')}`);
    return lines.join('\n');
  }

  /** Starts `argv` inside the image's view of the filesystem; the returned pid is the command's own. */
  spawn(state: ImageRuntime, argv: string[], extraEnv: Record<string, string> = {}, user = state.user): ChildProcess {
    const env = { PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin', HOME: user === 'root' ? '/root' : `/home/${user}`, ...state.env, ...extraEnv };
    const script = this.namespaceScript(state, argv, env, user);
    return spawn('unshare', ['--mount', '--propagation', 'private', '--', '/bin/sh', '-c', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  }

  /** Runs to completion; rejects with the output's tail when the exit status is not 0. */
  run(state: ImageRuntime, argv: string[], user = state.user): Promise<string> {
    // npm ci from the local cache when it can: the registry is only asked for what the cache lacks.
    const child = this.spawn(state, argv, { npm_config_prefer_offline: 'true', npm_config_update_notifier: 'false' }, user);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('exit', (code) => (code === 0 ? resolve(output) : reject(new Error(`${argv.join(' ')} exited ${code}:\n${output.slice(-3000)}`))));
    });
  }
}

function readIfExists(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** `mode size mtime` of every file and directory under `root` except `skip` (the volumes). */
export function listTree(root: string, skip: string[] = []): Map<string, string> {
  const listing = new Map<string, string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (skip.includes(path)) continue;
      const info = statSync(path, { throwIfNoEntry: false }) ?? { mode: 0, size: 0, mtimeMs: 0 };
      listing.set(relative(root, path), `${info.mode.toString(8)} ${info.size} ${info.mtimeMs}`);
      if (entry.isDirectory()) walk(path);
    }
  };
  walk(root);
  return listing;
}

/** Files on this machine owned by `uid` and changed after `sinceMs`, outside `allowed` directories. */
export function filesWrittenBy(uid: number, sinceMs: number, allowed: string[]): string[] {
  const prune = ['/proc', '/sys', ...allowed].flatMap((p, i) => (i === 0 ? ['-path', p] : ['-o', '-path', p]));
  const since = `@${Math.floor(sinceMs / 1000) - 1}`;
  const found = spawnSync('find', ['/', '/dev/shm', '-xdev', '(', ...prune, ')', '-prune', '-o', '-uid', String(uid), '-newermt', since, '-print'], { encoding: 'utf8' });
  return found.stdout.split('\n').filter(Boolean);
}

/** A uid and gid no account on this machine has, stable per `seed`, so that its files are the replay's alone. */
export function unusedUid(seed: string): ImageUser {
  let id = 61000 + ([...seed].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7) % 900);
  const taken = (db: string, n: number) => spawnSync('getent', [db, String(n)]).status === 0;
  while (taken('passwd', id) || taken('group', id)) id++;
  return { uid: id, gid: id };
}
