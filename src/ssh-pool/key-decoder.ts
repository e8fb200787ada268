import { Injectable, Logger } from '@nestjs/common';
import { ConfigService } from '@nestjs/config';
import { createHmac, createPrivateKey, randomBytes } from 'node:crypto';
// Default import: Node's ESM loader sees only some of ssh2's CommonJS exports by name (not `utils`).
import ssh2 from 'ssh2';
import type { AppConfig } from '../config/configuration.js';
import { parseKeyInWorker, type WorkerOutcome } from './key-decode-worker.js';
import { inspectPrivateKey, opensshEd25519, type KeyInspection } from './private-key-format.js';
import { SshKeyInvalidError } from './ssh-pool.errors.js';

/** Decodes at a time; more wait. Each one may keep a core busy for the whole KDF. */
const MAX_PARALLEL_DECODES = 2;
const DECODE_TIMEOUT_MS = 60_000;
/** Distinct keys remembered; the oldest is forgotten first. */
const MAX_CACHED_KEYS = 1000;

/**
 * Turns a stored private key (maybe passphrase-protected) into text ssh2 parses cheaply, running the
 * costly part (bcrypt-pbkdf) in a worker thread: ssh2 would run it on the event loop in every connect.
 * A key and passphrase pair is decoded once; its outcome, failure included, is remembered.
 */
@Injectable()
export class KeyDecoder {
  private readonly logger = new Logger(KeyDecoder.name);
  private readonly maxRounds: number;
  private readonly cache = new Map<string, Promise<string>>();
  private readonly hmacKey = randomBytes(32);
  private running = 0;
  private readonly queue: (() => void)[] = [];

  constructor(config: ConfigService<AppConfig, true>) {
    this.maxRounds = config.get('ssh', { infer: true }).maxKdfRounds;
  }

  /**
   * @returns the key unencrypted, in a format ssh2 parses without a KDF
   * @throws SshKeyInvalidError (SSH_KEY_INVALID) naming the problem: not a key, public key, unsupported,
   *   too costly (KDF rounds above SSH_KEY_MAX_KDF_ROUNDS), passphrase missing or wrong
   */
  decode(privateKey: string | Buffer, passphrase?: string): Promise<string> {
    const text = typeof privateKey === 'string' ? privateKey : privateKey.toString('utf8');
    const id = createHmac('sha256', this.hmacKey).update(`${text.length}:${text}`).update(passphrase ?? '\0none').digest('hex');
    const cached = this.cache.get(id);
    if (cached) return cached;
    const decoding = this.decodeUncached(text, passphrase);
    if (this.cache.size >= MAX_CACHED_KEYS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(id, decoding);
    decoding.catch((error: unknown) => {
      if (!(error instanceof SshKeyInvalidError) || error.transient) this.cache.delete(id);
    });
    return decoding;
  }

  private async decodeUncached(text: string, passphrase: string | undefined): Promise<string> {
    const inspection = inspectPrivateKey(text);
    this.precheck(inspection, passphrase);
    const outcome = await this.limited(() => parseKeyInWorker(text, passphrase, DECODE_TIMEOUT_MS)).catch((error: unknown) => {
      this.logger.warn(`private key decoding failed: ${error instanceof Error ? error.message : String(error)}`);
      throw Object.assign(new SshKeyInvalidError('malformed', 'the private key could not be decoded; try again'), { transient: true });
    });
    if (!outcome.ok) {
      if (encrypted(inspection)) throw new SshKeyInvalidError('passphrase-wrong', 'the passphrase does not decrypt the private key');
      throw new SshKeyInvalidError('malformed', `the private key cannot be parsed (${outcome.error})`);
    }
    return encrypted(inspection) ? reencode(outcome) : text;
  }

  /** Everything that can be known from the header, before any KDF runs. */
  private precheck(inspection: KeyInspection, passphrase: string | undefined): void {
    switch (inspection.kind) {
      case 'unknown':
        throw new SshKeyInvalidError('not-a-key', 'not a private key (expected an OpenSSH, PEM or PuTTY private key)');
      case 'malformed':
        throw new SshKeyInvalidError('malformed', 'the OpenSSH private key is malformed');
      case 'pkcs8':
        throw new SshKeyInvalidError('unsupported', 'PKCS#8 keys are not supported: convert with `ssh-keygen -p -f <file>`');
      case 'public':
        throw new SshKeyInvalidError('public-key', 'this is a public key; the private key is needed');
      case 'openssh':
        if (inspection.kdf !== 'none' && inspection.kdf !== 'bcrypt') {
          throw new SshKeyInvalidError('unsupported', `unsupported key derivation function ${inspection.kdf}`);
        }
        if ((inspection.rounds ?? 0) > this.maxRounds) {
          throw new SshKeyInvalidError('too-costly', `the key asks for ${inspection.rounds} bcrypt rounds; at most ${this.maxRounds} are accepted (SSH_KEY_MAX_KDF_ROUNDS)`);
        }
        break;
    }
    if (encrypted(inspection) && !passphrase) {
      throw new SshKeyInvalidError('passphrase-missing', 'the private key is encrypted and no passphrase is given');
    }
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    while (this.running >= MAX_PARALLEL_DECODES) await new Promise<void>((wake) => this.queue.push(wake));
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.queue.shift()?.();
    }
  }
}

const encrypted = (inspection: KeyInspection): boolean => 'encrypted' in inspection && inspection.encrypted;

/** ssh2 exports RSA/EC/DSA keys as PEM it reads again cheaply; ed25519 as PKCS#8, which it does not read. */
function reencode(outcome: Extract<WorkerOutcome, { ok: true }>): string {
  if (outcome.privatePem === null) throw new SshKeyInvalidError('public-key', 'this is a public key; the private key is needed');
  const publicSsh = Buffer.from(outcome.publicSsh);
  let text = outcome.privatePem;
  if (outcome.type === 'ssh-ed25519') {
    const jwk = createPrivateKey(outcome.privatePem).export({ format: 'jwk' });
    text = opensshEd25519(Buffer.from(jwk.d ?? '', 'base64url'), Buffer.from(jwk.x ?? '', 'base64url'), outcome.comment);
  }
  const again = ssh2.utils.parseKey(text);
  if (again instanceof Error || !again.isPrivateKey() || !again.getPublicSSH().equals(publicSsh)) {
    throw new SshKeyInvalidError('unsupported', `keys of type ${outcome.type} are not supported`);
  }
  return text;
}
