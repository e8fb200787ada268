import { assertNever } from '../common/assert-never.js';
import { DomainError, ErrorKind } from '../common/domain-error.js';

/** Every way a pool operation can fail; each code declares its kind of failure (poolErrorKind). */
export enum SshPoolErrorCode {
  AUTH_FAILED = 'SSH_AUTH_FAILED',
  UNREACHABLE = 'SSH_UNREACHABLE',
  HOST_KEY_MISMATCH = 'SSH_HOST_KEY_MISMATCH',
  CONNECT_TIMEOUT = 'SSH_CONNECT_TIMEOUT',
  EXEC_TIMEOUT = 'EXEC_TIMEOUT',
  HOST_DOWN = 'SSH_HOST_DOWN',
  SHUTTING_DOWN = 'POOL_SHUTTING_DOWN',
  /** The server refused channels persistently, or closed two in a row before their command started (nothing ran). */
  CHANNEL_FAILED = 'SSH_CHANNEL_FAILED',
  /**
   * The command was sent and the connection was lost before it ended (or before the server answered
   * the request): it may have run on the host, and it was not sent again.
   */
  OUTCOME_UNKNOWN = 'SSH_OUTCOME_UNKNOWN',
  /** The private key cannot be decoded (not a key, wrong or missing passphrase, too costly): the caller's error, never a host failure. */
  KEY_INVALID = 'SSH_KEY_INVALID',
  /** The host resolves only to addresses SSH_TARGET_ALLOW/SSH_TARGET_DENY refuse; never a host failure. */
  TARGET_FORBIDDEN = 'SSH_TARGET_FORBIDDEN',
}

/** What kind of failure each pool code is: a host failing us, a slow host, or the caller's input. */
export function poolErrorKind(code: SshPoolErrorCode): ErrorKind {
  switch (code) {
    case SshPoolErrorCode.AUTH_FAILED:
    case SshPoolErrorCode.UNREACHABLE:
    case SshPoolErrorCode.HOST_KEY_MISMATCH:
    case SshPoolErrorCode.CHANNEL_FAILED:
    case SshPoolErrorCode.OUTCOME_UNKNOWN:
      return ErrorKind.UPSTREAM_FAILURE;
    case SshPoolErrorCode.CONNECT_TIMEOUT:
    case SshPoolErrorCode.EXEC_TIMEOUT:
      return ErrorKind.TIMEOUT;
    case SshPoolErrorCode.HOST_DOWN:
    case SshPoolErrorCode.SHUTTING_DOWN:
      return ErrorKind.UNAVAILABLE;
    case SshPoolErrorCode.KEY_INVALID:
      return ErrorKind.UNPROCESSABLE;
    case SshPoolErrorCode.TARGET_FORBIDDEN:
      return ErrorKind.FORBIDDEN;
    default:
      return assertNever(code);
  }
}

/** A pool failure. Messages name the connection key (user@host:port), never a credential. */
export class SshPoolError extends DomainError {
  constructor(
    readonly code: SshPoolErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'SshPoolError';
  }

  get kind(): ErrorKind {
    return poolErrorKind(this.code);
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
