import { Injectable } from '@nestjs/common';
import type { SshAuth, SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { CredentialsCipher } from './credentials-cipher.js';
import { secretContext } from './server-auth.js';
import type { ServerEntity } from './server.entity.js';
import { SshKeyFiles } from './ssh-key-files.js';

/** Turns a stored server into the pool's SshTarget: decrypts its secrets and reads its key file. */
@Injectable()
export class SshTargetFactory {
  constructor(
    private readonly cipher: CredentialsCipher,
    private readonly keyFiles: SshKeyFiles,
  ) {}

  /** @throws ServerError CREDENTIALS_UNREADABLE, SSH_KEY_INVALID (key file unusable) */
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
      : await this.keyFiles.read(server.sshKeyPath ?? '', server.id);
    const passphrase = server.sshKeyPassphraseEnc ? reveal(server.sshKeyPassphraseEnc, 'sshKeyPassphrase') : undefined;
    return passphrase === undefined ? { type: 'KEY_FILE', privateKey } : { type: 'KEY_FILE', privateKey, passphrase };
  }
}
