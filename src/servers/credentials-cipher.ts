import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ServerError, ServerErrorCode } from './servers.errors.js';

const ALGORITHM = 'aes-256-gcm';
const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * AES-256-GCM for stored SSH secrets. Output is `v1:<base64url(iv | tag | ciphertext)>`. The
 * `context` (server id and field) is bound as associated data, so a ciphertext copied into another
 * row or column fails to decrypt instead of yielding someone else's secret.
 */
export class CredentialsCipher {
  constructor(private readonly key: Buffer) {
    if (key.length !== 32) {
      throw new Error(`CredentialsCipher needs a 32-byte key, got ${key.length} bytes`);
    }
  }

  encrypt(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url')}`;
  }

  /** @throws ServerError CREDENTIALS_UNREADABLE when the value was tampered with, moved, or sealed under another key. */
  decrypt(sealed: string, context: string): string {
    const [version, payload] = sealed.split(':', 2);
    const raw = Buffer.from(payload ?? '', 'base64url');
    if (version !== VERSION || raw.length < IV_BYTES + TAG_BYTES) {
      throw unreadable(context);
    }
    try {
      const decipher = createDecipheriv(ALGORITHM, this.key, raw.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
      return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw unreadable(context);
    }
  }
}

function unreadable(context: string): ServerError {
  return new ServerError(
    ServerErrorCode.CREDENTIALS_UNREADABLE,
    'A stored credential cannot be decrypted; CREDENTIALS_KEY differs from the key it was stored with',
    { credential: context },
  );
}
