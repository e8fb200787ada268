import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { errnoCode } from './errno.js';

export interface SecretFile {
  value: string;
  /** Absolute path, safe to log. */
  path: string;
  created: boolean;
  /** The file is readable or writable by group or others. */
  permissive: boolean;
}

/**
 * Reads a generated secret, creating it (mode 0600, directory 0700) on first use. `wx` makes two
 * processes starting at once agree on one value instead of overwriting each other.
 */
export async function readOrCreateSecretFile(path: string, generate: () => string): Promise<SecretFile> {
  const absolute = resolve(path);
  await mkdir(dirname(absolute), { recursive: true, mode: 0o700 });
  try {
    await writeFile(absolute, `${generate()}\n`, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if (errnoCode(error) !== 'EEXIST') throw error;
    return readExisting(absolute);
  }
  return { ...(await readExisting(absolute)), created: true };
}

async function readExisting(path: string): Promise<SecretFile> {
  const value = (await readFile(path, 'utf8')).trim();
  if (value === '') {
    throw new Error(`${path} is empty; delete it to have a new secret generated`);
  }
  const { mode } = await stat(path);
  return { value, path, created: false, permissive: (mode & 0o077) !== 0 };
}
