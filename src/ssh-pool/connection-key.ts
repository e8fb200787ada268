import { createHmac, randomBytes } from 'node:crypto';
import type { SshAuth, SshTarget } from './ssh-pool.types.js';

/**
 * Identifies one shareable SSH session: host, port, user, auth type, and a keyed hash of the
 * credentials and pinned host key. The HMAC key is random per process, so the fingerprint proves
 * equality of secrets inside this process and reveals nothing outside it.
 */
export class ConnectionKey {
  private constructor(
    readonly host: string,
    readonly port: number,
    readonly username: string,
    readonly authType: SshAuth['type'],
    readonly secretFingerprint: string,
  ) {}

  /** Map key: differs whenever any credential or the pinned host key differs. */
  get id(): string {
    return `${this.username}@${this.host}:${this.port}/${this.authType}/${this.secretFingerprint}`;
  }

  /** host:port, the unit that backoff applies to. */
  get hostId(): string {
    return `${this.host}:${this.port}`;
  }

  /** The seed's log form, kept so existing log searches work. Carries no secret. */
  toString(): string {
    return `ConnectionKey(${this.username}@${this.host}:${this.port}, ${this.authType})`;
  }

  /** Non-secret form for APIs: the seed form plus a short prefix of the keyed hash. */
  get display(): string {
    return `${this.username}@${this.host}:${this.port}/${this.authType}#${this.secretFingerprint.slice(0, 12)}`;
  }

  static of(target: SshTarget, hasher: SecretHasher): ConnectionKey {
    return new ConnectionKey(
      target.host.toLowerCase(),
      target.port,
      target.username,
      target.auth.type,
      hasher.fingerprint(target),
    );
  }
}

/** Keyed hash of everything secret or security-relevant in a target; never the secret itself. */
export class SecretHasher {
  private readonly key = randomBytes(32);

  fingerprint(target: SshTarget): string {
    const hmac = createHmac('sha256', this.key);
    const auth = target.auth;
    const parts: (string | Buffer)[] =
      auth.type === 'PASSWORD'
        ? ['password', auth.password]
        : ['key', auth.privateKey, 'passphrase', auth.passphrase ?? ''];
    parts.push('pin', target.hostKeyFingerprint ?? '');
    for (const part of parts) {
      const bytes = typeof part === 'string' ? Buffer.from(part, 'utf8') : part;
      // Length-prefix each field so that ("ab","c") and ("a","bc") hash differently.
      hmac.update(`${bytes.length}:`).update(bytes);
    }
    return hmac.digest('hex');
  }
}
