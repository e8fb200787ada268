import { access, constants, mkdir, stat } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';

/** SSH_KEY_DIR cannot be trusted; the message names the path and what to do. */
export class KeyDirError extends Error {}

export type KeyDirState = 'created' | 'private' | 'read-only';

/**
 * Makes SSH_KEY_DIR ready before the service starts: created with mode 0700 when missing, and
 * otherwise accepted only when no one but the service's user can use it (owner = this process,
 * no group or other bits), so that no other account can plant or read a key a server names.
 * A read-only mount (a Kubernetes Secret volume: root-owned, mode 1777, files 0440) is accepted
 * whatever its bits: nothing can be written into it, and its files' modes are the mount's.
 * @throws KeyDirError when the path is not a directory or is open to other users
 */
export async function prepareKeyDir(path: string): Promise<KeyDirState> {
  const existing = await stat(path).catch((error: unknown) => {
    if (errnoCode(error) === 'ENOENT') return null;
    throw new KeyDirError(`SSH_KEY_DIR ${path} cannot be read: ${errnoCode(error) ?? String(error)}`);
  });
  if (existing === null) {
    await mkdir(path, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw new KeyDirError(`SSH_KEY_DIR ${path} cannot be created: ${errnoCode(error) ?? String(error)}`);
    });
    return 'created';
  }
  if (!existing.isDirectory()) throw new KeyDirError(`SSH_KEY_DIR ${path} is not a directory`);
  if (await isReadOnlyMount(path)) return 'read-only';
  const uid = process.getuid?.() ?? existing.uid;
  if (existing.uid !== uid) {
    throw new KeyDirError(`SSH_KEY_DIR ${path} is owned by uid ${existing.uid}, not by the service's user (uid ${uid}): chown it or choose another directory`);
  }
  const mode = existing.mode & 0o777;
  if ((mode & 0o077) !== 0) {
    throw new KeyDirError(`SSH_KEY_DIR ${path} has mode 0${mode.toString(8)}, open to other users: run chmod 700 ${path}`);
  }
  return 'private';
}

async function isReadOnlyMount(path: string): Promise<boolean> {
  try {
    await access(path, constants.W_OK);
    return false;
  } catch (error) {
    return errnoCode(error) === 'EROFS';
  }
}
