import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { constants } from 'node:fs';
import { open, realpath } from 'node:fs/promises';
import { basename, dirname, join, sep } from 'node:path';
import type { AppConfig } from '../config/configuration.js';
import { errnoCode } from '../common/errno.js';
import { RequestValidationError } from '../common/request-validation.error.js';
import { ServerError, ServerErrorCode } from './servers.errors.js';

/** Private keys are a few KiB; the cap keeps a misconfigured path (a log, /dev/zero, /proc) from being slurped. */
export const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Why a key file was refused; logged, never answered. */
class KeyFileProblem extends Error {}

/**
 * `sshKeyPath` files, confined to SSH_KEY_DIR after resolving links: checked when a server is
 * created or patched and again at every read (a link may be swapped later). Every failure to read
 * answers the same SSH_KEY_INVALID, so that answers map no files; the reason goes to the log.
 */
@Injectable()
export class SshKeyFiles {
  private readonly logger = new Logger(SshKeyFiles.name);
  private readonly keyDir: string;

  constructor(config: ConfigService<AppConfig, true>) {
    this.keyDir = config.get('ssh', { infer: true }).keyDir;
  }

  /** @throws RequestValidationError on `sshKeyPath` when the path resolves outside SSH_KEY_DIR */
  async assertAllowed(path: string): Promise<void> {
    const real = await resolveExisting(path).catch(() => null);
    if (real === null || !(await this.inside(real))) {
      throw RequestValidationError.field('sshKeyPath', `sshKeyPath must be a file inside SSH_KEY_DIR (${this.keyDir})`);
    }
  }

  /** @throws ServerError SSH_KEY_INVALID, one message whatever the reason */
  async read(path: string, serverId: string): Promise<Buffer> {
    try {
      const real = await realpath(path);
      if (!(await this.inside(real))) throw new KeyFileProblem('resolves outside SSH_KEY_DIR');
      return await readCapped(real);
    } catch (error) {
      const reason = error instanceof KeyFileProblem ? error.message : (errnoCode(error) ?? 'unreadable');
      this.logger.warn(`SSH key file of server ${serverId} cannot be used: ${path}: ${reason}`);
      throw new ServerError(ServerErrorCode.KEY_INVALID, `the SSH key file of server ${serverId} cannot be used (see the service log)`);
    }
  }

  private async inside(real: string): Promise<boolean> {
    const dir = await realpath(this.keyDir).catch(() => null);
    return dir !== null && real.startsWith(dir.endsWith(sep) ? dir : dir + sep);
  }
}

/** realpath of `path`, or of its nearest existing ancestor joined with the rest (the file may be provisioned later). */
async function resolveExisting(path: string): Promise<string> {
  try {
    return await realpath(path);
  } catch (error) {
    const parent = dirname(path);
    if (errnoCode(error) !== 'ENOENT' || parent === path) throw error;
    return join(await resolveExisting(parent), basename(path));
  }
}

/** Reads at most MAX_KEY_FILE_BYTES + 1 bytes whatever `stat` claims (/proc files report size 0 and may never end). */
async function readCapped(path: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO must not hang the request; O_NOFOLLOW: the path was just resolved.
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
  try {
    if (!(await file.stat()).isFile()) throw new KeyFileProblem('not a regular file');
    const buffer = Buffer.alloc(MAX_KEY_FILE_BYTES + 1);
    let length = 0;
    while (length < buffer.length) {
      const { bytesRead } = await file.read(buffer, length, buffer.length - length, null);
      if (bytesRead === 0) break;
      length += bytesRead;
    }
    if (length > MAX_KEY_FILE_BYTES) throw new KeyFileProblem(`larger than ${MAX_KEY_FILE_BYTES} bytes`);
    return buffer.subarray(0, length);
  } finally {
    await file.close();
  }
}
