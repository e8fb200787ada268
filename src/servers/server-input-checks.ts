import { Injectable } from '@nestjs/common';
import type { FieldError } from '../common/request-validation.error.js';
import { RequestValidationError } from '../common/request-validation.error.js';
import { KeyDecoder } from '../ssh-pool/key-decoder.js';
import { SshKeyInvalidError } from '../ssh-pool/ssh-pool.errors.js';
import { TargetPolicy } from '../ssh-pool/target-policy.js';
import { CredentialsCipher } from './credentials-cipher.js';
import { type AuthPlan, secretContext, type SecretChange } from './server-auth.js';
import type { ServerEntity } from './server.entity.js';
import { SshKeyFiles } from './ssh-key-files.js';

/** The fields of a create or update these checks look at. */
export interface CheckedInput {
  host?: string;
  sshKeyPath?: string;
}

/**
 * What a create or patch must prove before it is stored, beyond field syntax: an inline key decodes
 * with its passphrase (and within the KDF cap), a key path lies in SSH_KEY_DIR, an IP literal host is
 * an allowed target. A key that cannot work is refused here, with the reason, not at the first exec.
 */
@Injectable()
export class ServerInputChecks {
  constructor(
    private readonly keys: KeyDecoder,
    private readonly targets: TargetPolicy,
    private readonly keyFiles: SshKeyFiles,
    private readonly cipher: CredentialsCipher,
  ) {}

  /** @throws RequestValidationError naming `host`, `sshKeyPath`, `sshPrivateKey` or `sshKeyPassphrase` */
  async check(current: ServerEntity | null, input: CheckedInput, plan: AuthPlan): Promise<void> {
    const errors: FieldError[] = [];
    if (input.host !== undefined && this.targets.refusesLiteral(input.host)) {
      errors.push({ field: 'host', messages: ['host is not an allowed SSH target (SSH_TARGET_ALLOW/SSH_TARGET_DENY)'] });
    }
    if (plan.authType === 'KEY_FILE' && input.sshKeyPath !== undefined) {
      await this.keyFiles.assertAllowed(input.sshKeyPath).catch((error: unknown) => {
        if (!(error instanceof RequestValidationError)) throw error;
        errors.push(...error.details);
      });
    }
    const keyError = await this.checkInlineKey(current, plan);
    if (keyError) errors.push(keyError);
    if (errors.length > 0) throw new RequestValidationError(errors);
  }

  /** Decodes the inline key the record will hold when the key or its passphrase changes. */
  private async checkInlineKey(current: ServerEntity | null, plan: AuthPlan): Promise<FieldError | null> {
    if (plan.authType !== 'KEY_FILE' || (plan.privateKey.kind !== 'set' && plan.passphrase.kind === 'keep')) return null;
    const key = this.resulting(plan.privateKey, current, 'sshPrivateKey', current?.sshPrivateKeyEnc);
    if (key === undefined) return null; // the key comes from sshKeyPath: read at exec, maybe provisioned later
    try {
      await this.keys.decode(key, this.resulting(plan.passphrase, current, 'sshKeyPassphrase', current?.sshKeyPassphraseEnc));
      return null;
    } catch (error) {
      if (!(error instanceof SshKeyInvalidError)) throw error;
      const field = error.problem === 'passphrase-missing' || error.problem === 'passphrase-wrong' ? 'sshKeyPassphrase' : 'sshPrivateKey';
      return { field, messages: [`${field}: ${error.message}`] };
    }
  }

  private resulting(change: SecretChange, current: ServerEntity | null, column: string, sealed: string | null | undefined): string | undefined {
    if (change.kind === 'set') return change.value;
    if (change.kind === 'clear' || !current || !sealed) return undefined;
    return this.cipher.decrypt(sealed, secretContext(current.id, column));
  }
}
