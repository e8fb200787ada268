import { execFileSync } from 'node:child_process';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KeyDirError, prepareKeyDir } from './key-dir.js';

describe('prepareKeyDir (SSH_KEY_DIR at start)', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'cs2-keydir-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('creates a missing directory (and its parents) with mode 0700, owned by this process', async () => {
    const dir = join(root, 'data', 'keys');
    await expect(prepareKeyDir(dir)).resolves.toBe('created');
    const made = statSync(dir);
    expect({ directory: made.isDirectory(), mode: made.mode & 0o777, uid: made.uid }).toEqual({ directory: true, mode: 0o700, uid: process.getuid!() });
    await expect(prepareKeyDir(dir)).resolves.toBe('private');
  });

  it.each([0o755, 0o750, 0o701, 0o1777])('refuses an existing directory with mode %o, naming the path', async (mode) => {
    const dir = join(root, 'keys');
    mkdirSync(dir);
    chmodSync(dir, mode);
    await expect(prepareKeyDir(dir)).rejects.toThrow(new KeyDirError(`SSH_KEY_DIR ${dir} has mode 0${(mode & 0o777).toString(8)}, open to other users: run chmod 700 ${dir}`));
  });

  it('refuses a path that is a file', async () => {
    const file = join(root, 'keys');
    writeFileSync(file, '', { mode: 0o600 });
    await expect(prepareKeyDir(file)).rejects.toThrow(new KeyDirError(`SSH_KEY_DIR ${file} is not a directory`));
  });

  it("refuses a 0700 directory owned by another user (who could open it up)", async () => {
    const dir = join(root, 'keys');
    mkdirSync(dir, { mode: 0o700 });
    chownSync(dir, 65534, 65534);
    await expect(prepareKeyDir(dir)).rejects.toThrow(/SSH_KEY_DIR .*keys is owned by uid 65534, not by the service's user/);
  });

  it('accepts a read-only mount whatever its bits (a Kubernetes Secret volume is root-owned 1777)', async () => {
    const dir = join(root, 'secret');
    mkdirSync(dir);
    // Needs root, as the rest of the suite does (scripts/test.sh); a failure here says so.
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,mode=1777,uid=65534', 'tmpfs', dir]);
    try {
      expect(statSync(dir).mode & 0o7777).toBe(0o1777);
      await expect(prepareKeyDir(dir)).resolves.toBe('read-only');
    } finally {
      execFileSync('umount', [dir]);
    }
  });
});
