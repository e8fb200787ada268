import { Injectable } from '@nestjs/common';
import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { errnoCode } from '../common/errno.js';
import type { SshAuth, SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { CredentialsCipher } from './credentials-cipher.js';
import { secretContext } from './server-auth.js';
import type { ServerEntity } from './server.entity.js';
import { ServerError, ServerErrorCode } from './servers.errors.js';

/** Private keys are a few KiB; the cap keeps a misconfigured path (a log, /dev/zero) from being slurped. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** Turns a stored server into the pool's SshTarget: decrypts its secrets and reads its key file. */
@Injectable()
export class SshTargetFactory {
  constructor(private readonly cipher: CredentialsCipher) {}

  /** @throws ServerError CREDENTIALS_UNREADABLE, SSH_KEY_FILE_UNREADABLE */
  async build(server: ServerEntity): Promise<SshTarget> {
    return {
      serverId: server.id,
      host: server.host,
      port: server.sshPort,
      username: server.sshUser,
      auth: await this.auth(server),
      ...(server.hostKeyFingerprint ? { hostKeyFingerprint: server.hostKeyFingerprint } : {}),
    };
  }

  private async auth(server: ServerEntity): Promise<SshAuth> {
    const reveal = (sealed: string, column: string) => this.cipher.decrypt(sealed, secretContext(server.id, column));
    if (server.authType === 'PASSWORD') {
      return { type: 'PASSWORD', password: reveal(server.sshPasswordEnc ?? '', 'sshPassword') };
    }
    const privateKey = server.sshPrivateKeyEnc
      ? reveal(server.sshPrivateKeyEnc, 'sshPrivateKey')
      : await readKeyFile(server.sshKeyPath ?? '');
    const passphrase = server.sshKeyPassphraseEnc ? reveal(server.sshKeyPassphraseEnc, 'sshKeyPassphrase') : undefined;
    return passphrase === undefined ? { type: 'KEY_FILE', privateKey } : { type: 'KEY_FILE', privateKey, passphrase };
  }
}

async function readKeyFile(path: string): Promise<Buffer> {
  // O_NONBLOCK: opening a FIFO must not hang the request.
  const file = await open(path, constants.O_RDONLY | constants.O_NONBLOCK).catch((error: unknown) => {
    throw keyFileError(path, errnoCode(error) ?? 'unreadable');
  });
  try {
    const info = await file.stat();
    if (!info.isFile()) throw keyFileError(path, 'not a regular file');
    if (info.size > MAX_KEY_FILE_BYTES) throw keyFileError(path, `larger than ${MAX_KEY_FILE_BYTES} bytes`);
    return await file.readFile();
  } finally {
    await file.close();
  }
}

function keyFileError(path: string, reason: string): ServerError {
  return new ServerError(ServerErrorCode.KEY_FILE_UNREADABLE, `SSH key file ${path} cannot be read: ${reason}`, { path });
}
