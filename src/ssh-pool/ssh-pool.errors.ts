/** Every way a pool operation can fail; the HTTP layer maps each code to a status exhaustively. */
export enum SshPoolErrorCode {
  AUTH_FAILED = 'SSH_AUTH_FAILED',
  UNREACHABLE = 'SSH_UNREACHABLE',
  HOST_KEY_MISMATCH = 'SSH_HOST_KEY_MISMATCH',
  CONNECT_TIMEOUT = 'SSH_CONNECT_TIMEOUT',
  EXEC_TIMEOUT = 'EXEC_TIMEOUT',
  HOST_DOWN = 'SSH_HOST_DOWN',
  SHUTTING_DOWN = 'POOL_SHUTTING_DOWN',
  /** The connection died under a running command, or the server refused channels persistently. */
  CHANNEL_FAILED = 'SSH_CHANNEL_FAILED',
  /** The private key cannot be decoded (not a key, wrong or missing passphrase, too costly): the caller's error, never a host failure. */
  KEY_INVALID = 'SSH_KEY_INVALID',
  /** The host resolves only to addresses SSH_TARGET_ALLOW/SSH_TARGET_DENY refuse; never a host failure. */
  TARGET_FORBIDDEN = 'SSH_TARGET_FORBIDDEN',
}

/** A pool failure. Messages name the connection key (user@host:port), never a credential. */
export class SshPoolError extends Error {
  constructor(
    readonly code: SshPoolErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SshPoolError';
  }
}

/** Why a private key cannot be used; create/patch name the field from it (passphrase problems are `sshKeyPassphrase`'s). */
export type KeyProblem = 'not-a-key' | 'public-key' | 'unsupported' | 'too-costly' | 'passphrase-missing' | 'passphrase-wrong' | 'malformed';

/** SSH_KEY_INVALID with the reason; the message says what is wrong and never holds key material. */
export class SshKeyInvalidError extends SshPoolError {
  /** Not the key's fault (the decoding worker failed): not remembered, the next attempt decodes again. */
  transient = false;

  constructor(
    readonly problem: KeyProblem,
    message: string,
  ) {
    super(SshPoolErrorCode.KEY_INVALID, message, { reason: problem });
    this.name = 'SshKeyInvalidError';
  }
}
