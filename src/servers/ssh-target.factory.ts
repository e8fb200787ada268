import { Injectable } from '@nestjs/common';
import type { SshAuth, SshTarget } from '../ssh-pool/ssh-pool.types.js';
import { CredentialsCipher } from './credentials-cipher.js';
import { secretContext } from './server-auth.js';
import type { ServerEntity } from './server.entity.js';
import { SshKeyFiles } from './ssh-key-files.js';

/**
 * A server's target with its secrets decrypted, safe to keep: a key given by `sshKeyPath` is not in
 * it but read at every use (see SshTargetFactory.complete).
 */
export type PreparedTarget =
  | { kind: 'complete'; target: SshTarget }
  | { kind: 'key-file'; serverId: string; keyPath: string; withKey: (privateKey: Buffer) => SshTarget };

/** Turns a stored server into the pool's SshTarget: decrypts its secrets and reads its key file. */
@Injectable()
export class SshTargetFactory {
  constructor(
    private readonly cipher: CredentialsCipher,
    private readonly keyFiles: SshKeyFiles,
  ) {}

  /** @throws ServerError CREDENTIALS_UNREADABLE, SSH_KEY_INVALID (key file unusable) */
  async build(server: ServerEntity): Promise<SshTarget> {
    return this.complete(this.prepare(server));
  }

  /** Everything but the key file. @throws ServerError CREDENTIALS_UNREADABLE */
  prepare(server: ServerEntity): PreparedTarget {
    const reveal = (sealed: string, column: string) => this.cipher.decrypt(sealed, secretContext(server.id, column));
    const target = (auth: SshAuth): SshTarget => ({
      serverId: server.id,
      host: server.host,
      port: server.sshPort,
      username: server.sshUser,
      auth,
      ...(server.hostKeyFingerprint ? { hostKeyFingerprint: server.hostKeyFingerprint } : {}),
    });
    if (server.authType === 'PASSWORD') {
      return { kind: 'complete', target: target({ type: 'PASSWORD', password: reveal(server.sshPasswordEnc ?? '', 'sshPassword') }) };
    }
    const passphrase = server.sshKeyPassphraseEnc ? reveal(server.sshKeyPassphraseEnc, 'sshKeyPassphrase') : undefined;
    const keyAuth = (privateKey: string | Buffer): SshAuth =>
      passphrase === undefined ? { type: 'KEY_FILE', privateKey } : { type: 'KEY_FILE', privateKey, passphrase };
    if (server.sshPrivateKeyEnc) {
      return { kind: 'complete', target: target(keyAuth(reveal(server.sshPrivateKeyEnc, 'sshPrivateKey'))) };
    }
    return { kind: 'key-file', serverId: server.id, keyPath: server.sshKeyPath ?? '', withKey: (key) => target(keyAuth(key)) };
  }

  /**
   * Reads the key file, if any, now: a link swapped out of SSH_KEY_DIR is refused and a rotated key
   * used at the next command, for about 0.06 ms a read (see docs/request-path.md).
   * @throws ServerError SSH_KEY_INVALID
   */
  async complete(prepared: PreparedTarget): Promise<SshTarget> {
    if (prepared.kind === 'complete') return prepared.target;
    return prepared.withKey(await this.keyFiles.read(prepared.keyPath, prepared.serverId));
  }
}
